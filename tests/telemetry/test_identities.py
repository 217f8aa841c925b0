"""What the broker must hold for a gateway or the ingest, and the fewest commands to get there."""

from __future__ import annotations

import pytest

from plantops.telemetry.identities import (
    INGEST_ROLE,
    MANAGED,
    Acl,
    default_access_commands,
    gateway_commands,
    gateway_rolename,
    ingest_acls,
    ingest_commands,
    leftover_usernames,
    publish_acls,
    removal_commands,
    role_commands,
    scope_prefix,
    sparkplug_acls,
)

PRESS = scope_prefix("riverside", "stamping", "line-1", "press-2")


def names(commands: list[dict]) -> list[str]:
    return [command["command"] for command in commands]


def role_as_broker_reports(rolename: str, acls: frozenset[Acl]) -> dict:
    return {"rolename": rolename, "acls": [acl._asdict() for acl in acls]}


def client_as_broker_reports(username: str, *, disabled: bool = False, roles=None) -> dict:
    client = {
        "username": username,
        "clientid": username,
        "textdescription": MANAGED,
        "roles": [{"rolename": r} for r in (roles or [gateway_rolename(username)])],
        "groups": [],
    }
    if disabled:
        client["disabled"] = True
    return client


def test_an_asset_gateway_may_publish_the_four_messages_of_its_asset_and_nothing_else():
    assert PRESS == "plantops/riverside/stamping/line-1/press-2"
    assert {(acl.acltype, acl.topic, acl.allow) for acl in publish_acls([PRESS])} == {
        ("publishClientSend", f"{PRESS}/telemetry/+", True),
        ("publishClientSend", f"{PRESS}/telemetry", True),
        ("publishClientSend", f"{PRESS}/state", True),
        ("publishClientSend", f"{PRESS}/count", True),
    }


def test_a_line_or_area_gateway_covers_every_asset_below_it_by_wildcard():
    assert scope_prefix("riverside", "stamping", "line-1") == "plantops/riverside/stamping/line-1/+"
    assert scope_prefix("riverside", "stamping") == "plantops/riverside/stamping/+/+"


@pytest.mark.parametrize("slug", ["", "a/b", "+", "#", "press#"])
def test_a_slug_that_would_widen_or_break_the_acl_is_refused(slug):
    with pytest.raises(ValueError, match="topic level"):
        scope_prefix("riverside", "stamping", "line-1", slug)


def test_the_ingest_may_read_the_wire_and_sparkplug_and_publish_only_rebirth_requests():
    assert {(acl.acltype, acl.topic) for acl in ingest_acls()} == {
        ("subscribePattern", "plantops/#"),
        ("subscribePattern", "$share/+/plantops/#"),
        ("publishClientReceive", "plantops/#"),
        ("subscribePattern", "spBv1.0/#"),
        ("subscribePattern", "$share/+/spBv1.0/#"),
        ("publishClientReceive", "spBv1.0/#"),
        ("publishClientSend", "spBv1.0/+/NCMD/+"),
    }


def test_a_sparkplug_edge_node_publishes_its_own_messages_and_receives_its_commands():
    acls = {(acl.acltype, acl.topic) for acl in sparkplug_acls([("plant", "edge-1")])}
    assert acls == {
        ("publishClientSend", "spBv1.0/plant/NBIRTH/edge-1"),
        ("publishClientSend", "spBv1.0/plant/NDATA/edge-1"),
        ("publishClientSend", "spBv1.0/plant/NDEATH/edge-1"),
        ("publishClientSend", "spBv1.0/plant/DBIRTH/edge-1/+"),
        ("publishClientSend", "spBv1.0/plant/DDATA/edge-1/+"),
        ("publishClientSend", "spBv1.0/plant/DDEATH/edge-1/+"),
        ("subscribePattern", "spBv1.0/plant/NCMD/edge-1"),
        ("publishClientReceive", "spBv1.0/plant/NCMD/edge-1"),
        ("subscribePattern", "spBv1.0/plant/DCMD/edge-1/+"),
        ("publishClientReceive", "spBv1.0/plant/DCMD/edge-1/+"),
        ("subscribePattern", "spBv1.0/STATE/+"),
        ("publishClientReceive", "spBv1.0/STATE/+"),
    }
    assert sparkplug_acls([]) == frozenset()


@pytest.mark.parametrize("node", ["", "a/b", "+", "edge#"])
def test_a_sparkplug_id_that_would_widen_the_acl_is_refused(node):
    with pytest.raises(ValueError, match="Sparkplug id"):
        sparkplug_acls([("plant", node)])


def test_a_new_gateway_gets_its_role_before_its_client_which_the_broker_needs():
    commands = gateway_commands(
        "press-gw",
        prefixes=[PRESS],
        enabled=True,
        observed_client=None,
        observed_role=None,
        password="s3cret",
        textname="Press gateway",
    )
    assert names(commands) == ["createRole", "createClient"]
    role, client = commands
    assert role["rolename"] == "plantops-gateway-press-gw"
    assert len(role["acls"]) == 4
    assert client == {
        "command": "createClient",
        "username": "press-gw",
        "roles": [{"rolename": "plantops-gateway-press-gw"}],
        "password": "s3cret",
        "clientid": "press-gw",
        "textname": "Press gateway",
        "textdescription": MANAGED,
    }


def test_a_gateway_in_step_needs_no_command_so_nobody_is_disconnected():
    acls = publish_acls([PRESS])
    assert (
        gateway_commands(
            "press-gw",
            prefixes=[PRESS],
            enabled=True,
            observed_client=client_as_broker_reports("press-gw"),
            observed_role=role_as_broker_reports("plantops-gateway-press-gw", acls),
        )
        == []
    )


def test_revoking_disables_the_client_before_anything_else_changes():
    commands = gateway_commands(
        "press-gw",
        prefixes=[],
        enabled=False,
        observed_client=client_as_broker_reports("press-gw"),
        observed_role=role_as_broker_reports("plantops-gateway-press-gw", publish_acls([PRESS])),
    )
    assert names(commands)[0] == "disableClient"
    assert names(commands).count("removeRoleACL") == 4


def test_reinstating_enables_the_client_after_its_role_is_right():
    commands = gateway_commands(
        "press-gw",
        prefixes=[PRESS],
        enabled=True,
        observed_client=client_as_broker_reports("press-gw", disabled=True),
        observed_role=role_as_broker_reports("plantops-gateway-press-gw", frozenset()),
    )
    assert names(commands) == ["addRoleACL"] * 4 + ["enableClient"]


def test_a_moved_asset_loses_its_old_topics_before_it_gains_the_new():
    old = publish_acls([PRESS])
    moved = scope_prefix("riverside", "stamping", "line-2", "press-2")
    commands = role_commands("r", publish_acls([moved]), role_as_broker_reports("r", old))
    assert names(commands) == ["removeRoleACL"] * 4 + ["addRoleACL"] * 4
    assert all(c["topic"].startswith(f"{PRESS}/") for c in commands[:4])
    assert all(c["topic"].startswith(f"{moved}/") for c in commands[4:])


def test_an_acl_that_denies_where_it_should_allow_is_replaced():
    wanted = frozenset({Acl("publishClientSend", f"{PRESS}/state")})
    observed = role_as_broker_reports(
        "r", frozenset({Acl("publishClientSend", f"{PRESS}/state", False)})
    )
    assert names(role_commands("r", wanted, observed)) == ["removeRoleACL", "addRoleACL"]


def test_a_client_given_other_roles_or_groups_by_hand_keeps_only_its_own():
    observed = client_as_broker_reports("press-gw", roles=["plantops-gateway-press-gw", "admin"])
    observed["groups"] = [{"groupname": "everyone"}]
    commands = gateway_commands(
        "press-gw",
        prefixes=[PRESS],
        enabled=True,
        observed_client=observed,
        observed_role=role_as_broker_reports("plantops-gateway-press-gw", publish_acls([PRESS])),
    )
    assert commands == [
        {
            "command": "modifyClient",
            "username": "press-gw",
            "roles": [{"rolename": "plantops-gateway-press-gw"}],
            "groups": [],
        }
    ]


def test_a_gateway_may_log_in_with_its_own_user_name_as_client_id_only():
    observed = client_as_broker_reports("press-gw")
    observed["clientid"] = "plantops-ingest-1"
    commands = gateway_commands(
        "press-gw",
        prefixes=[PRESS],
        enabled=True,
        observed_client=observed,
        observed_role=role_as_broker_reports("plantops-gateway-press-gw", publish_acls([PRESS])),
    )
    assert commands == [{"command": "setClientId", "username": "press-gw", "clientid": "press-gw"}]


def test_a_new_password_is_set_on_an_existing_client():
    commands = gateway_commands(
        "press-gw",
        prefixes=[PRESS],
        enabled=True,
        observed_client=client_as_broker_reports("press-gw"),
        observed_role=role_as_broker_reports("plantops-gateway-press-gw", publish_acls([PRESS])),
        password="new",
    )
    assert commands == [{"command": "setClientPassword", "username": "press-gw", "password": "new"}]


def test_an_existing_ingest_keeps_its_password_and_a_new_one_gets_mqtt_urls():
    role = role_as_broker_reports(INGEST_ROLE, ingest_acls())
    existing = {"username": "ingest", "roles": [{"rolename": INGEST_ROLE}], "groups": []}
    assert (
        ingest_commands("ingest", observed_client=existing, observed_role=role, password="p") == []
    )
    created = ingest_commands("ingest", observed_client=None, observed_role=role, password="p")
    assert created[0]["command"] == "createClient"
    assert created[0]["password"] == "p"
    assert created[0]["roles"] == [{"rolename": INGEST_ROLE}]


def test_only_gateway_clients_and_roles_that_no_gateway_owns_are_leftovers():
    clients = [
        {"username": "admin", "roles": [{"rolename": "admin"}]},
        {"username": "ingest", "roles": [{"rolename": INGEST_ROLE}]},
        {"username": "by-hand", "roles": []},
        client_as_broker_reports("kept-gw"),
        client_as_broker_reports("gone-gw"),
        {"username": "half-made", "textdescription": MANAGED, "roles": []},
    ]
    roles = ["admin", INGEST_ROLE, "plantops-gateway-kept-gw", "plantops-gateway-orphan-role"]
    assert leftover_usernames(clients, roles, {"kept-gw"}) == {
        "gone-gw",
        "half-made",
        "orphan-role",
    }


def test_removal_never_deletes_a_client_made_by_hand_that_shares_a_gateway_roles_name():
    by_hand = {"username": "orphan-role", "roles": [], "groups": []}
    role = role_as_broker_reports("plantops-gateway-orphan-role", frozenset())
    assert removal_commands("orphan-role", observed_client=by_hand, observed_role=role) == [
        {"command": "deleteRole", "rolename": "plantops-gateway-orphan-role"}
    ]


def test_default_access_is_set_only_where_it_differs():
    as_initialised = [
        {"acltype": "publishClientSend", "allow": False},
        {"acltype": "publishClientReceive", "allow": True},
        {"acltype": "subscribe", "allow": False},
        {"acltype": "unsubscribe", "allow": True},
    ]
    assert default_access_commands(as_initialised) == [
        {
            "command": "setDefaultACLAccess",
            "acls": [{"acltype": "publishClientReceive", "allow": False}],
        }
    ]
    as_initialised[1]["allow"] = False
    assert default_access_commands(as_initialised) == []
