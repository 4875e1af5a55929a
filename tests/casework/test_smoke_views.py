def test_case_page_renders_for_owner(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert "محمد عماد جبار كاظم الجنابي" in response.get_data(as_text=True)


def test_case_list_renders(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.get("/cases/")
    assert response.status_code == 200
    assert case.reference in response.get_data(as_text=True)


def test_new_case_form_renders(client, auth, caseworker):
    auth.login(caseworker)
    assert client.get("/cases/new").status_code == 200
