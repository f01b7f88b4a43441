"""Health, OpenAPI and error shape."""

from tests.conftest import error_of


def test_health_names_the_backend(client, backend):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": backend}


def test_openapi_lists_the_contract_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/areas", "/api/v1/areas/{code}", "/api/v1/grids",
                 "/api/v1/grids/{code}", "/api/v1/audit", "/api/v1/health"):
        assert path in spec["paths"], path
    assert "AreaIn" in spec["components"]["schemas"]


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
