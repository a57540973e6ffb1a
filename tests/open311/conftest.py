"""Open311 fixtures: api_keys by scope, and a form poster."""
import re

import pytest

from dispatch.org.services import create_token

BASE = "/open311/v2"


@pytest.fixture
def key_for(org):
    """key_for('community:yanchenglu') → a raw Open311 api_key with that scope (made once per test)."""
    made = {}

    def make(scope="community:yanchenglu"):
        if scope not in made:
            made[scope] = create_token("o311-" + re.sub(r"[^a-z0-9]", "-", scope), scope, "open311")[1]
        return made[scope]
    return make


@pytest.fixture
def post_request(client, key_for):
    """post_request(fmt='json', **form) → the response of POST requests.{fmt}, with a 盐城路社区 key by default."""
    def post(fmt="json", api_key=None, **form):
        form.setdefault("service_code", "lighting")
        form.setdefault("address_string", "盐城路8号")
        form["api_key"] = key_for() if api_key is None else api_key
        return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})
    return post
