"""The porteur sees only the documents addressed to them: not a file staff uploaded that no field
the porteur may read names, on the dossier page, through the download route and the API."""

from __future__ import annotations

from webapp.demo import DEMO_PDF

NOTE = DEMO_PDF + b"% note interne\n"


def test_a_staff_upload_is_hidden_from_the_porteur(services, make_dossier, client, auth):
    instance_id = make_dossier("recevabilite", "CAB", porteur="porteur1")
    own = services.attachments.list(instance_id)
    assert own and {doc.uploaded_by for doc in own} == {"porteur1"}
    note = services.attachments.store(instance_id, "note-interne.pdf", NOTE, "instructeur1")
    url = f"/dossiers/{instance_id}/documents/{note.sha256}"

    auth.login("porteur1")
    assert "note-interne.pdf" not in client.get(f"/dossiers/{instance_id}").get_data(as_text=True)
    assert client.get(url).status_code == 404
    assert client.get(f"/dossiers/{instance_id}/documents/{own[0].sha256}").status_code == 200
    token = services.accounts.create_token("porteur1", "tests")
    api = client.get(f"/api/dossiers/{instance_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert note.sha256 not in {doc["sha256"] for doc in api["documents"]}
    assert own[0].sha256 in {doc["sha256"] for doc in api["documents"]}

    auth.login("instructeur1")
    assert "note-interne.pdf" in client.get(f"/dossiers/{instance_id}").get_data(as_text=True)
    assert client.get(url).status_code == 200
