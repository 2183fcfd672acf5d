"""Against a real server (daphne on a random port): the URLs it writes carry that port and open.

The server's CULTURE_PORT is its live port (tests/live_server.py), as `make run` on 8000 or a
deployment on 443: canonical links, og:url, robots.txt's sitemap, sitemap <loc>s, feed links and
the OAI-PMH baseURL written at request time must all be reachable exactly as written. Its OAI-PMH
answers (which the in-process schema check of tests/conftest.py does not see) are validated here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import feedparser
import pytest
import requests
from usp.tree import sitemap_from_str

from tests.live_server import daphne_server, live_server_env  # noqa: F401 (fixtures)
from tests.oai_schema import validate

pytestmark = pytest.mark.django_db

CANONICAL = re.compile(r'<link rel="canonical" href="([^"]+)"')
OG_URL = re.compile(r'<meta property="og:url" content="([^"]+)"')
# host asked → the primary host its URLs must be on
HOSTS = {
    "zhejiang.culture.localhost": "zhejiang.culture.localhost",
    "dalian-culture.localhost": "dalian-culture.localhost",
    "dalian.culture.localhost": "dalian-culture.localhost",
}


def fetch(server, url: str) -> requests.Response:
    """GET `url` exactly as written: its host and port in the Host header, the server's address."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.port == server.port, f"{url} is not on the server's port {server.port}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return requests.get(server.url(path), headers={"Host": parts.netloc}, timeout=60, allow_redirects=False)


def test_urls_written_by_a_live_server_open_as_written(daphne_server):  # noqa: F811
    server = daphne_server
    written: set[str] = set()
    for asked, primary in HOSTS.items():
        base = f"http://{primary}:{server.port}"
        home = fetch(server, f"http://{asked}:{server.port}/")
        assert home.status_code == 200, server.log()[-3000:]
        assert CANONICAL.findall(home.text) == [f"{base}/"] and OG_URL.findall(home.text) == [f"{base}/"]

        robots = fetch(server, f"http://{asked}:{server.port}/robots.txt").text
        sitemap_url = re.search(r"^Sitemap: (\S+)$", robots, re.M).group(1)
        assert sitemap_url == f"{base}/sitemap.xml"
        sitemap = fetch(server, sitemap_url)
        assert sitemap.status_code == 200
        locs = [p.url for p in sitemap_from_str(sitemap.text).all_pages()]
        assert locs and all(u.startswith(base + "/") for u in locs)
        written |= set(locs)

        feed = feedparser.parse(fetch(server, f"http://{asked}:{server.port}/rss.xml").content)
        assert not feed.bozo, feed.get("bozo_exception")
        links = [feed.feed.link] + [e.link for e in feed.entries] + [e.id for e in feed.entries]
        assert all(u.startswith(base + "/") for u in links)
        written |= set(links)

        identify = fetch(server, f"http://{asked}:{server.port}/oai/?verb=Identify")
        validate(identify.content)
        base_url = re.search(r"<baseURL>([^<]+)</baseURL>", identify.text).group(1)
        assert base_url == f"{base}/oai/"
        written.add(base_url + "?verb=Identify")

    for url in sorted(written)[:5]:  # pages found in sitemaps carry the same canonical as their URL
        assert CANONICAL.findall(fetch(server, url).text) == [url]
    failures = [f"{u}: {r.status_code}" for u in sorted(written) if (r := fetch(server, u)).status_code != 200]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "query",
    [
        "verb=Identify",
        "verb=ListMetadataFormats",
        "verb=ListSets",
        "verb=ListIdentifiers&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=culture",
        "verb=ListRecords&metadataPrefix=",
        "verb=ListRecords&metadataPrefix=oai_dc&from=",
        "verb=ListRecords&metadataPrefix=marc21",
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:x:1",
        "verb=Nothing",
        "verb=ListSets&resumptionToken=x",
    ],
)
def test_live_oai_answers_validate_against_the_official_schemas(daphne_server, query):  # noqa: F811
    answer = fetch(daphne_server, f"http://national.culture.localhost:{daphne_server.port}/oai/?{query}")
    assert answer.status_code == 200
    validate(answer.content)
