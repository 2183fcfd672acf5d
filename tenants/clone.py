"""A new tenant schema as a copy of the template schema, in one transaction.

django-tenants' `clone_schema` (a PL/pgSQL function) asks the catalogs about every table,
sequence, index, privilege and trigger anew for each clone, often without a schema filter: with
every tenant those scans grow, and at 416 tenants one clone took 9.7 s (bench/README.md, Scale).
Here the template's structure is read once per process — and again only when the template's
migration state changes — with catalog queries restricted to the template's namespace, and
turned into one DDL script with the schema name substituted. A clone then replays it:

    CREATE SCHEMA; standalone sequences; CREATE TABLE (columns, defaults, identities, checks);
    copy the rows (INSERT … SELECT); sequence positions; primary keys, unique and exclusion
    constraints, other indexes; foreign keys; triggers

all in one transaction (a failed clone leaves no schema, no table, no row), with
`synchronous_commit` off for it (the next synchronous commit — the tenant's row — flushes it).
Indexes and foreign keys come after the rows: built once over the data instead of row by row.

Only what our templates contain is copied; anything else found in the template (views, functions,
types, rules, policies, comments, grants, inheritance…) raises `UnsupportedTemplate` instead of
being left out silently. decision 0023 explains the choice.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg2
from django.db import connection, transaction

# Relation kinds we copy: ordinary tables, sequences, indexes (views and the rest are refused).
_COPIED_RELKINDS = {"r", "S", "i"}


# PostgreSQL writes an `IN ('a', 'b')` on a varchar column back as
# `= ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])`, which it parses again as
# a different tree (the cast goes into the elements) and so writes back differently: the copy would
# not be identical (the room-slot exclusion constraint of bookings). Naming the array's own type,
# `(ARRAY[…]::character varying[])::text[]`, parses back to the original tree.
_ARRAY_LITERAL_CAST = re.compile(r"\(ARRAY\[('(?:[^']|'')*'::([a-z ]+)(?:, '(?:[^']|'')*'::\2)*)\]\)::")


def _reparsable(expression: str) -> str:
    return _ARRAY_LITERAL_CAST.sub(lambda m: f"(ARRAY[{m[1]}]::{m[2]}[])::", expression)


class UnsupportedTemplate(RuntimeError):
    """The template schema holds an object this clone does not know how to copy."""


@dataclass(frozen=True)
class _Plan:
    """The template's structure as SQL, with _SCHEMA where the new schema's quoted name goes."""

    key: tuple
    before_data: str  # CREATE SCHEMA, sequences, tables with their checks
    copy_data: str  # INSERT … SELECT per table
    sequences: tuple[tuple[int, str], ...]  # the template's sequences (oid, quoted name)
    index_groups: tuple[tuple[int, str], ...]  # per table: (statements, its keys and indexes)
    after_data: str  # foreign keys, triggers


# Index builds after the rows run in this many connections at once. On PostgreSQL 16 every B-tree
# build ends with an fsync of its file (~560 in the template, ~3 ms each on the development
# machine's disk): one connection waits for them one by one, several overlap them (2.6 s → 0.9 s
# with 4 on a loaded 2-core machine, bench/README.md). 1: the whole clone in one transaction.
INDEX_CONNECTIONS = 4


# Stands for the new schema's quoted name in the cached SQL: a private-use character no catalog
# text of ours contains.
_SCHEMA = "\ue000"

_lock = threading.Lock()
_plans: dict[str, _Plan] = {}


def clone_schema(template: str, new_schema: str, *, index_connections: int | None = None) -> None:
    """Create schema `new_schema` as a copy of `template`: structure, rows and sequence positions.

    The schema, its tables and rows are made in one transaction; the indexes (in
    `index_connections` connections, INDEX_CONNECTIONS by default) and the foreign keys then
    follow in transactions of their own, and a failure in those drops the schema again. With one
    connection everything is one transaction. Either way a failed clone leaves nothing behind;
    should the process die between the steps, the schema it left is marked as an unfinished clone
    and the next attempt at that slug removes it (`drop_interrupted`). Runs outside any transaction. Raises django.db.utils.ProgrammingError if `new_schema`
    exists, UnsupportedTemplate if the template holds an object kind this module does not copy.
    """
    if connection.in_atomic_block:
        raise RuntimeError("clone_schema must run outside a transaction.")
    parallel = max(1, INDEX_CONNECTIONS if index_connections is None else index_connections)
    if parallel == 1:
        _copy(template, new_schema, parallel)
        return
    # Held for the whole clone, released by PostgreSQL if this process dies: an unfinished
    # clone's schema whose lock nobody holds is left over, not in progress (drop_interrupted).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [_LOCK_PREFIX + new_schema])
    try:
        _copy(template, new_schema, parallel)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_LOCK_PREFIX + new_schema])


_LOCK_PREFIX = "culture-clone:"
# On the new schema from its first transaction until its last: marks a clone not yet finished.
UNFINISHED = "culture: unfinished clone"


def drop_interrupted(schema: str) -> bool:
    """Drop `schema` if it is what a clone left when its process died midway: marked unfinished,
    and no live clone holds its lock. True if it was dropped."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')", [schema])
        if cursor.fetchone()[0] != UNFINISHED:
            return False
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_LOCK_PREFIX + schema])
        if not cursor.fetchone()[0]:
            return False  # a clone of that name is running right now
        try:
            cursor.execute(f"DROP SCHEMA {_quoted(schema)} CASCADE")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_LOCK_PREFIX + schema])
    return True


def _copy(template: str, new_schema: str, parallel: int) -> None:
    q_new = _quoted(new_schema)
    with transaction.atomic(), connection.cursor() as cursor:
        _set_up_transaction(cursor)
        plan = _template_plan(cursor, template)
        unfinished = f";\nCOMMENT ON SCHEMA {q_new} IS '{UNFINISHED}'" if parallel > 1 else ""
        cursor.execute(plan.before_data.replace(_SCHEMA, q_new) + unfinished)
        cursor.execute(plan.copy_data.replace(_SCHEMA, q_new))
        if plan.sequences:
            # Each sequence continues where the template's stands (NULL: never used, left at start).
            oids, names = zip(*plan.sequences, strict=True)
            cursor.execute(
                "SELECT setval((%s || '.' || name)::regclass, pg_sequence_last_value(oid))"
                " FROM unnest(%s::oid[], %s::text[]) AS s(oid, name) WHERE pg_sequence_last_value(oid) IS NOT NULL",
                [q_new, list(oids), list(names)],
            )
        if parallel == 1:
            cursor.execute(";\n".join(sql for _, sql in plan.index_groups).replace(_SCHEMA, q_new) + ";")
            cursor.execute(plan.after_data.replace(_SCHEMA, q_new))
            return
    try:
        _build_indexes(plan, q_new, parallel)
        with transaction.atomic(), connection.cursor() as cursor:
            _set_up_transaction(cursor)
            cursor.execute(plan.after_data.replace(_SCHEMA, q_new) + f";\nCOMMENT ON SCHEMA {q_new} IS NULL")
    except BaseException:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {q_new} CASCADE")
        raise


def _set_up_transaction(cursor) -> None:
    # Every name outside pg_catalog is written schema-qualified (reading) and resolved the same
    # way (replaying), whatever search_path django-tenants left on the connection. The commit need
    # not wait for the disk: the tenant's row, committed next, does.
    cursor.execute("SET LOCAL search_path = ''; SET LOCAL synchronous_commit = off")


def _build_indexes(plan: _Plan, q_new: str, parallel: int) -> None:
    """The keys and indexes of the new (committed) tables, a table's all in one connection."""
    shares: list[list[str]] = [[] for _ in range(parallel)]
    sizes = [0] * parallel
    for count, sql in sorted(plan.index_groups, reverse=True):  # largest first, to the least busy
        least = sizes.index(min(sizes))
        shares[least].append(sql)
        sizes[least] += count
    params = connection.get_connection_params()

    def build(statements: list[str]) -> None:
        raw = psycopg2.connect(**params)
        try:
            with raw, raw.cursor() as cursor:  # one transaction, committed on leaving
                _set_up_transaction(cursor)
                cursor.execute(";\n".join(statements).replace(_SCHEMA, q_new) + ";")
        finally:
            raw.close()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(build, share) for share in shares if share]
    for future in futures:
        with connection.wrap_database_errors:  # psycopg2's errors as Django's, as for this connection
            future.result()  # the first failure, if any, after all have finished


def forget_plans() -> None:
    """Drop the cached template structure (for tests that change the template outside migrations)."""
    with _lock:
        _plans.clear()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _template_plan(cursor, template: str) -> _Plan:
    # The key: the template's namespace and migration state (migrations are what change its
    # structure): one indexed lookup and a count over ~400 rows per clone.
    cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [template])
    row = cursor.fetchone()
    if row is None:
        raise UnsupportedTemplate(f"template schema {template!r} does not exist")
    cursor.execute(f"SELECT count(*), max(id) FROM {_quoted(template)}.django_migrations")
    key = (row[0], *cursor.fetchone())
    with _lock:
        plan = _plans.get(template)
    if plan is None or plan.key != key:
        plan = _read_template(cursor, template, key)
        with _lock:
            _plans[template] = plan
    return plan


def _read_template(cursor, template: str, key: tuple) -> _Plan:
    """The template's structure from catalog queries restricted to its namespace (`key[0]`).

    Definitions come from pg_get_constraintdef / pg_get_indexdef / pg_get_triggerdef under an
    empty search_path, so the template's own names in them are written `template.name`: each is
    replaced at the one place it must appear, and a definition naming the template anywhere
    else is refused (UnsupportedTemplate) rather than copied wrong.
    """
    nsp = key[0]
    _refuse_unsupported(cursor, nsp)
    cursor.execute("SELECT quote_ident(%s)", [template])
    q_tmpl = cursor.fetchone()[0] + "."

    def retarget(definition: str, qualified: str, what: str) -> str:
        """`definition` with its one `template.x` (`qualified`) moved to the new schema."""
        if definition.count(qualified) != 1 or definition.count(q_tmpl) != 1:
            raise UnsupportedTemplate(f"{what}: unexpected definition {definition!r}")
        return definition.replace(qualified, qualified.replace(q_tmpl, _SCHEMA + ".", 1))

    cursor.execute(
        "SELECT oid, quote_ident(relname), relkind, relpersistence, reloptions FROM pg_class"
        " WHERE relnamespace = %s ORDER BY relname",
        [nsp],
    )
    relations = cursor.fetchall()
    odd = sorted(name for _, name, kind, _, _ in relations if kind not in _COPIED_RELKINDS)
    if odd:
        raise UnsupportedTemplate(f"template relations of a kind not copied (views?): {odd[:10]}")
    tables = {oid: (name, persistence, options) for oid, name, kind, persistence, options in relations if kind == "r"}
    sequences = {oid: name for oid, name, kind, _, _ in relations if kind == "S"}
    table_oids = list(tables)

    # Sequences: their parameters, and the column each belongs to (identity 'i', OWNED BY 'a').
    cursor.execute(
        "SELECT s.seqrelid, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,"
        " s.seqcache, s.seqcycle, d.refobjid, d.refobjsubid, d.deptype"
        " FROM pg_sequence s LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid"
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
        " WHERE s.seqrelid = ANY(%s::oid[])",
        [list(sequences)],
    )
    sequence_options: dict[int, str] = {}
    identity_sequence: dict[tuple[int, int], int] = {}  # (table oid, attnum) -> sequence oid
    owned_by: dict[int, tuple[int, int]] = {}  # standalone sequence -> (table oid, attnum)
    for seq, typ, start, inc, smin, smax, cache, cycle, ref, refsub, deptype in cursor.fetchall():
        options = (
            f"INCREMENT BY {inc} MINVALUE {smin} MAXVALUE {smax} START WITH {start} CACHE {cache}"
            f" {'' if cycle else 'NO '}CYCLE"
        )
        if deptype == "i":
            identity_sequence[ref, refsub] = seq
            sequence_options[seq] = options
        else:
            sequence_options[seq] = f"AS {typ} {options}"
            if deptype == "a":
                if ref not in tables:
                    raise UnsupportedTemplate(f"sequence {sequences[seq]} belongs to a table outside the template")
                owned_by[seq] = (ref, refsub)

    # Columns, in order, with defaults (which may use a template sequence, no other relation).
    cursor.execute(
        "SELECT a.attrelid, a.attnum, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " a.attidentity, a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid),"
        " CASE WHEN a.attcollation <> t.typcollation"
        "  THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,"
        " (SELECT array_agg(d.refobjid) FROM pg_depend d WHERE d.classid = 'pg_attrdef'::regclass"
        "  AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> a.attrelid)"
        " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
        " LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
        " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
        " LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
        " WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attrelid, a.attnum",
        [table_oids],
    )
    columns: dict[int, list[str]] = {oid: [] for oid in tables}
    copied: dict[int, list[str]] = {oid: [] for oid in tables}
    column_name: dict[tuple[int, int], str] = {}
    overriding: set[int] = set()  # tables with GENERATED ALWAYS identities
    for rel, num, name, typ, notnull, identity, generated, default, collation, refs in cursor.fetchall():
        column_name[rel, num] = name
        parts = [name, typ]
        if collation:
            parts.append(f"COLLATE {collation}")
        if identity:
            seq = identity_sequence[rel, num]
            parts.append(
                f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY"
                f" (SEQUENCE NAME {_SCHEMA}.{sequences[seq]} {sequence_options[seq]})"
            )
            if identity == "a":
                overriding.add(rel)
        elif generated:
            parts.append(f"GENERATED ALWAYS AS ({_reparsable(default)}) STORED")
        elif default is not None:
            what = f"default of {tables[rel][0]}.{name}"
            for ref in refs or ():
                if ref not in sequences:
                    raise UnsupportedTemplate(f"{what} uses a relation other than a template sequence")
                default = retarget(default, f"'{q_tmpl}{sequences[ref]}'::regclass", what)
            if q_tmpl in default:
                raise UnsupportedTemplate(f"{what} names the template: {default!r}")
            parts.append(f"DEFAULT {_reparsable(default)}")
        if notnull:
            parts.append("NOT NULL")
        columns[rel].append(" ".join(parts))
        if not generated:
            copied[rel].append(name)

    # Constraints: valid checks go into CREATE TABLE; keys and exclusion constraints (building
    # their indexes) and then foreign keys come after the rows.
    cursor.execute(
        "SELECT c.conrelid, quote_ident(c.conname), c.contype, pg_get_constraintdef(c.oid), c.conindid,"
        " c.convalidated, fn.nspname, quote_ident(fc.relname)"
        " FROM pg_constraint c LEFT JOIN pg_class fc ON fc.oid = c.confrelid"
        " LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
        " WHERE c.connamespace = %s ORDER BY c.conrelid, c.conname",
        [nsp],
    )
    checks: dict[int, list[str]] = {oid: [] for oid in tables}
    keys: dict[int, list[str]] = {oid: [] for oid in tables}  # and their indexes, and the others
    foreign_keys: list[str] = []
    key_indexes: set[int] = set()
    for rel, name, contype, definition, index, validated, ref_nsp, ref_table in cursor.fetchall():
        if rel not in tables:
            raise UnsupportedTemplate(f"constraint {name} is on no template table (a domain?)")
        alter = f"ALTER TABLE {_SCHEMA}.{tables[rel][0]} ADD CONSTRAINT {name} "
        if contype == "n":  # PostgreSQL 17+: a column's NOT NULL, made with the column
            continue
        if contype not in ("c", "p", "u", "x", "f"):
            raise UnsupportedTemplate(f"constraint {name} of type {contype!r} is not copied")
        if q_tmpl in definition and not (contype == "f" and ref_nsp == template):
            raise UnsupportedTemplate(f"constraint {name} names the template: {definition!r}")
        definition = _reparsable(definition)
        if contype == "c" and validated:
            checks[rel].append(f"CONSTRAINT {name} {definition}")
        elif contype == "f":
            if ref_nsp == template:
                definition = retarget(definition, f"REFERENCES {q_tmpl}{ref_table}(", f"foreign key {name}")
            foreign_keys.append(alter + definition)
        else:
            keys[rel].append(alter + definition)
            if index:
                key_indexes.add(index)

    # Indexes that back no constraint.
    cursor.execute(
        "SELECT indexrelid, indrelid, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY(%s::oid[]) ORDER BY indexrelid",
        [table_oids],
    )
    for index, rel, definition in cursor.fetchall():
        if index not in key_indexes:
            keys[rel].append(_reparsable(retarget(definition, f" ON {q_tmpl}{tables[rel][0]} USING ", "index")))

    # Triggers of our own (those of foreign keys come with the keys); their functions must live
    # outside the template (_refuse_unsupported refuses functions in it).
    cursor.execute(
        "SELECT tgrelid, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = ANY(%s::oid[]) AND NOT tgisinternal",
        [table_oids],
    )
    triggers = [
        retarget(definition, f" ON {q_tmpl}{tables[rel][0]} ", "trigger") for rel, definition in cursor.fetchall()
    ]

    before = [f"CREATE SCHEMA {_SCHEMA}"]
    identities = set(identity_sequence.values())
    before += [
        f"CREATE SEQUENCE {_SCHEMA}.{name} {sequence_options[seq]}"
        for seq, name in sequences.items()
        if seq not in identities
    ]
    copy = []
    for rel, (name, persistence, options) in tables.items():
        body = ",\n  ".join(columns[rel] + checks[rel])
        unlogged = "UNLOGGED " if persistence == "u" else ""
        storage = f" WITH ({', '.join(options)})" if options else ""
        before.append(f"CREATE {unlogged}TABLE {_SCHEMA}.{name} (\n  {body}\n){storage}")
        if copied[rel]:
            listed = ", ".join(copied[rel])
            override = " OVERRIDING SYSTEM VALUE" if rel in overriding else ""
            copy.append(f"INSERT INTO {_SCHEMA}.{name} ({listed}){override} SELECT {listed} FROM {q_tmpl}{name}")
    before += [
        f"ALTER SEQUENCE {_SCHEMA}.{sequences[seq]} OWNED BY {_SCHEMA}.{tables[rel][0]}.{column_name[rel, num]}"
        for seq, (rel, num) in owned_by.items()
    ]
    return _Plan(
        key=key,
        before_data=";\n".join(before) + ";",
        copy_data=";\n".join(copy) + ";" if copy else "SELECT 1",
        sequences=tuple(sequences.items()),
        index_groups=tuple((len(group), ";\n".join(group)) for group in keys.values() if group),
        after_data=";\n".join(foreign_keys + triggers) + ";" if foreign_keys or triggers else "SELECT 1",
    )


def _refuse_unsupported(cursor, nsp: int) -> None:
    """Objects in the template schema this clone does not copy: refuse rather than leave them out."""
    cursor.execute(
        "SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = %(nsp)s"
        " UNION ALL SELECT 'type ' || t.typname FROM pg_type t WHERE t.typnamespace = %(nsp)s AND t.typrelid = 0"
        "  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typrelid <> 0)"
        " UNION ALL SELECT 'collation ' || collname FROM pg_collation WHERE collnamespace = %(nsp)s"
        " UNION ALL SELECT 'operator ' || oprname FROM pg_operator WHERE oprnamespace = %(nsp)s"
        " UNION ALL SELECT 'statistics ' || stxname FROM pg_statistic_ext WHERE stxnamespace = %(nsp)s"
        " UNION ALL SELECT 'text search configuration ' || cfgname FROM pg_ts_config WHERE cfgnamespace = %(nsp)s"
        " UNION ALL SELECT 'rule ' || r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class"
        "  WHERE c.relnamespace = %(nsp)s"
        " UNION ALL SELECT 'policy ' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
        "  WHERE c.relnamespace = %(nsp)s"
        " UNION ALL SELECT 'inheritance ' || c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        "  WHERE c.relnamespace = %(nsp)s"
        " UNION ALL SELECT 'grant on ' || relname FROM pg_class WHERE relnamespace = %(nsp)s AND relacl IS NOT NULL"
        " UNION ALL SELECT 'grant on the schema' FROM pg_namespace WHERE oid = %(nsp)s AND nspacl IS NOT NULL"
        " UNION ALL SELECT 'comment on ' || c.relname FROM pg_description d JOIN pg_class c ON c.oid = d.objoid"
        "  WHERE d.classoid = 'pg_class'::regclass AND c.relnamespace = %(nsp)s"
        " UNION ALL SELECT 'owner of ' || relname FROM pg_class WHERE relnamespace = %(nsp)s"
        "  AND relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        " LIMIT 10",
        {"nsp": nsp},
    )
    found = [row[0] for row in cursor.fetchall()]
    if found:
        raise UnsupportedTemplate(f"the template schema holds objects tenants/clone.py does not copy: {found}")
