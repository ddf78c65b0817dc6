"""What people land on, and the links the e-mails give them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from webapp import demo


def test_a_mail_links_to_the_task_page_which_opens_for_its_recipient(make_app, make_dossier):
    app = make_app(DSDT_PUBLIC_URL="https://dsdt.example.org/")
    services = app.extensions["dsdt"]
    instance_id = make_dossier("contact", porteur="porteur2")
    mail = next(m for m in services.notifications.outbox() if m.recipient == "porteur2@demo.dsdt.example")
    links = re.findall(r"https://\S+", mail.body)
    assert len(links) == 1 and links[0].startswith(f"https://dsdt.example.org/dossiers/{instance_id}/etape/")
    step = services.queries.dossier(instance_id).open_steps[0]
    text = mail.body.replace(links[0], "")  # the page's address holds the task's reference, the text none
    assert step.name in text and step.bpmn_id not in text

    client = app.test_client()
    client.post("/connexion", data={"login": "porteur2", "password": demo.DEMO_PASSWORD,
                                    "csrf_token": _token(client)})
    page = client.get(urlsplit(links[0]).path)
    assert page.status_code == 200 and step.name in page.get_data(as_text=True)


def _token(client) -> str:
    page = client.get("/connexion").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
