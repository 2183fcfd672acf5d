"""What a browser would submit from a Wagtail admin form, read from the form's HTML."""

from __future__ import annotations

from bs4 import BeautifulSoup


def form_fields(html: str) -> dict:
    """The named fields of the page's edit form with their current values (StreamField blocks are
    drawn by JavaScript and are not in the HTML: add them with wagtail.test.utils.form_data)."""
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", attrs={"data-edit-form": True}) or soup.find("form", method="post")
    data = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button", "file"):
            continue
        if field.name == "textarea":
            data[name] = field.text
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            data[name] = chosen.get("value", "") if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        else:
            data[name] = field.get("value", "")
    return data
