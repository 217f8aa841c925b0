"""What the MQTT broker must hold for PlantOps' identities, and the commands that get it there. Pure.

Identities live in Mosquitto's dynamic-security store: a client (user name, password hash,
enabled or not) holds roles, a role holds ACLs. A gateway gets one client and one role of its
own whose ACLs let it publish (`publishClientSend`) the wire contract's topics of its assets
and, if it is a Sparkplug B edge node, that node's topics, and nothing else; the ingest's role
may only subscribe to and receive those topics, and ask a Sparkplug node for a rebirth.

`gateway_commands`, `ingest_commands` and `default_access_commands` compare what the broker
reported (`getClient`, `getRole`, `getDefaultACLAccess`) with what is wanted and return only
the commands that close the gap, in the order the broker must run them: running them again
changes nothing. That matters beyond tidiness: the broker drops every connection of a client
whose roles or password change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

TOPIC_ROOT = "plantops"
SPARKPLUG_ROOT = "spBv1.0"
GATEWAY_ROLE_PREFIX = "plantops-gateway-"
INGEST_ROLE = "plantops-ingest"
# Set as the text description of every gateway client PlantOps creates, so a full sync can
# tell a client left over from a deleted gateway from one an operator made by hand.
MANAGED = "PlantOps gateway: change it in the PlantOps admin, not here."

# The wire contract's topics under one asset (plantops/<site>/<area>/<line>/<asset>/…): one
# reading per signal, a batch, a machine state change, a parts count.
ASSET_TOPICS = ("telemetry/+", "telemetry", "state", "count")
# Sparkplug B messages an edge node publishes for itself and for its devices.
NODE_KINDS = ("NBIRTH", "NDATA", "NDEATH")
DEVICE_KINDS = ("DBIRTH", "DDATA", "DDEATH")

# Nobody may publish, subscribe or receive anything that a role does not allow.
DEFAULT_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}

Command = dict[str, Any]


class Acl(NamedTuple):
    acltype: str
    topic: str
    allow: bool = True
    priority: int = 0

    def as_command(self, command: str, rolename: str) -> Command:
        return {"command": command, "rolename": rolename, **self._asdict()}


def gateway_rolename(username: str) -> str:
    return GATEWAY_ROLE_PREFIX + username


def scope_prefix(site: str, area: str, line: str | None = None, asset: str | None = None) -> str:
    """Return the topic prefix for an asset, or for every asset of a line or of an area.

    `plantops/<site>/<area>/<line>/<asset>`, with `+` for the levels a line or an area leaves
    open. A slug that is empty or holds `/`, `+` or `#` would widen or break the ACL: refused.
    """
    levels = [site, area, line or "+", asset or "+"]
    if asset is not None and line is None:
        raise ValueError("an asset's prefix needs its line")
    for given in (site, area, line, asset):
        if given is not None and (not given or any(c in given for c in "/+#")):
            raise ValueError(f"{given!r} cannot be a topic level")
    return "/".join([TOPIC_ROOT, *levels])


def publish_acls(prefixes: Iterable[str]) -> frozenset[Acl]:
    """Return the ACLs that let a client publish every wire-contract message under `prefixes`."""
    return frozenset(
        Acl("publishClientSend", f"{prefix}/{topic}")
        for prefix in prefixes
        for topic in ASSET_TOPICS
    )


def sparkplug_acls(nodes: Iterable[tuple[str, str]]) -> frozenset[Acl]:
    """Return the ACLs that let a client be the Sparkplug B edge nodes `(group, node)`: publish
    their births, data and deaths (the death is its will) and those of their devices, and
    receive their commands and host applications' STATE."""
    acls = set()
    for group, node in nodes:
        for given in (group, node):
            if not given or any(c in given for c in "/+#"):
                raise ValueError(f"{given!r} cannot be a Sparkplug id")
        base = f"{SPARKPLUG_ROOT}/{group}"
        acls.update(Acl("publishClientSend", f"{base}/{kind}/{node}") for kind in NODE_KINDS)
        acls.update(Acl("publishClientSend", f"{base}/{kind}/{node}/+") for kind in DEVICE_KINDS)
        for commands in (f"{base}/NCMD/{node}", f"{base}/DCMD/{node}/+"):
            acls.update({Acl("subscribePattern", commands), Acl("publishClientReceive", commands)})
    if acls:
        state = f"{SPARKPLUG_ROOT}/STATE/+"
        acls.update({Acl("subscribePattern", state), Acl("publishClientReceive", state)})
    return frozenset(acls)


def ingest_acls() -> frozenset[Acl]:
    """Return the ACLs of the ingest's role: subscribe to and receive the wire's topics and
    Sparkplug B's, and ask an edge node for a rebirth (NCMD); nothing else."""
    acls = {Acl("publishClientSend", f"{SPARKPLUG_ROOT}/+/NCMD/+")}
    for every in (f"{TOPIC_ROOT}/#", f"{SPARKPLUG_ROOT}/#"):
        acls.update(
            {
                Acl("subscribePattern", every),
                # Mosquitto checks a shared subscription with its `$share/<group>/` prefix.
                Acl("subscribePattern", f"$share/+/{every}"),
                Acl("publishClientReceive", every),
            }
        )
    return frozenset(acls)


def role_commands(rolename: str, wanted: frozenset[Acl], observed: dict | None) -> list[Command]:
    """Commands that make role `rolename` hold exactly the ACLs `wanted`.

    `observed` is the `role` of a `getRole` answer, or None when the role does not exist.
    """
    if observed is None:
        return [
            {
                "command": "createRole",
                "rolename": rolename,
                "acls": [acl._asdict() for acl in sorted(wanted)],
            }
        ]
    held = {
        Acl(acl["acltype"], acl["topic"], bool(acl.get("allow")), int(acl.get("priority", 0)))
        for acl in observed.get("acls", [])
    }
    # Removals first: an ACL that differs only in allow or priority is removed and added again.
    return [
        {"command": "removeRoleACL", "rolename": rolename, "acltype": a.acltype, "topic": a.topic}
        for a in sorted(held - wanted)
    ] + [acl.as_command("addRoleACL", rolename) for acl in sorted(wanted - held)]


def client_commands(
    username: str,
    *,
    rolename: str,
    enabled: bool,
    observed: dict | None,
    password: str | None = None,
    clientid: str | None = None,
    textname: str = "",
    textdescription: str = "",
) -> tuple[list[Command], list[Command]]:
    """Commands that make client `username` hold only `rolename`, enabled or not, as wanted,
    and log in only with client id `clientid` when one is given.

    Returned in two lists: what must run before its role's commands (disabling, so a revoked
    client is refused before anything else changes) and what must run after them (creating
    the client or giving it the role, which the broker refuses while the role is missing).
    `observed` is the `client` of a `getClient` answer, or None when there is none; a password
    is set only when given, and a client created without one cannot log in.
    """
    before: list[Command] = []
    after: list[Command] = []
    if observed is None:
        create: Command = {
            "command": "createClient",
            "username": username,
            "roles": [{"rolename": rolename}],
        }
        if password is not None:
            create["password"] = password
        if clientid is not None:
            create["clientid"] = clientid
        if textname:
            create["textname"] = textname
        if textdescription:
            create["textdescription"] = textdescription
        after.append(create)
        if not enabled:
            after.append({"command": "disableClient", "username": username})
        return before, after
    disabled = bool(observed.get("disabled"))
    if not enabled and not disabled:
        before.append({"command": "disableClient", "username": username})
    roles = [role.get("rolename") for role in observed.get("roles", [])]
    if roles != [rolename] or observed.get("groups"):
        # A group would bring its roles' ACLs with it: the client keeps none.
        after.append(
            {
                "command": "modifyClient",
                "username": username,
                "roles": [{"rolename": rolename}],
                "groups": [],
            }
        )
    if clientid is not None and observed.get("clientid") != clientid:
        after.append({"command": "setClientId", "username": username, "clientid": clientid})
    if password is not None:
        after.append({"command": "setClientPassword", "username": username, "password": password})
    if enabled and disabled:
        after.append({"command": "enableClient", "username": username})
    return before, after


def gateway_commands(
    username: str,
    *,
    prefixes: Iterable[str],
    enabled: bool,
    observed_client: dict | None,
    observed_role: dict | None,
    password: str | None = None,
    textname: str = "",
    sparkplug_nodes: Iterable[tuple[str, str]] = (),
) -> list[Command]:
    """Commands that give gateway `username` its own role, publishing only under `prefixes`
    and as the Sparkplug B edge nodes `sparkplug_nodes`.

    It logs in with its user name as client id and no other: MQTT gives a client id's session
    to whoever connects with it last, so a gateway free to choose could take over the
    ingest's session (and with it the readings queued for the ingest).
    """
    rolename = gateway_rolename(username)
    before, after = client_commands(
        username,
        rolename=rolename,
        enabled=enabled,
        observed=observed_client,
        password=password,
        clientid=username,
        textname=textname,
        textdescription=MANAGED,
    )
    wanted = publish_acls(prefixes) | sparkplug_acls(sparkplug_nodes)
    return before + role_commands(rolename, wanted, observed_role) + after


def ingest_commands(
    username: str, *, observed_client: dict | None, observed_role: dict | None, password: str
) -> list[Command]:
    """Commands that give the ingest's client the read-only ingest role; a new client gets
    `password`, an existing one keeps its own."""
    before, after = client_commands(
        username,
        rolename=INGEST_ROLE,
        enabled=True,
        observed=observed_client,
        password=password if observed_client is None else None,
        textname="PlantOps ingest",
    )
    return before + role_commands(INGEST_ROLE, ingest_acls(), observed_role) + after


def is_gateway_client(client: dict) -> bool:
    """Whether a `getClient`/`listClients` entry is a gateway's: PlantOps marked it, or it
    holds a gateway role. The admin, the ingest and clients made by hand are not."""
    return client.get("textdescription") == MANAGED or any(
        role.get("rolename", "").startswith(GATEWAY_ROLE_PREFIX) for role in client.get("roles", [])
    )


def removal_commands(
    username: str, *, observed_client: dict | None, observed_role: dict | None
) -> list[Command]:
    """Commands that remove a gateway's client (dropping its connections), then its role."""
    commands: list[Command] = []
    if observed_client is not None and is_gateway_client(observed_client):
        commands.append({"command": "deleteClient", "username": username})
    if observed_role is not None:
        commands.append({"command": "deleteRole", "rolename": gateway_rolename(username)})
    return commands


def default_access_commands(observed: list[dict]) -> list[Command]:
    """Commands that set the broker's default access to `DEFAULT_ACCESS` where it differs.

    `observed` is the `acls` list of a `getDefaultACLAccess` answer.
    """
    held = {acl["acltype"]: bool(acl.get("allow")) for acl in observed}
    wrong = [
        {"acltype": acltype, "allow": allow}
        for acltype, allow in DEFAULT_ACCESS.items()
        if held.get(acltype) is not allow
    ]
    return [{"command": "setDefaultACLAccess", "acls": wrong}] if wrong else []


def leftover_usernames(clients: list[dict], roles: list[str], known: set[str]) -> set[str]:
    """User names of gateway clients and roles on the broker that no gateway in `known` owns.

    `clients` is a verbose `listClients` answer and `roles` a `listRoles` one.
    """
    found = {client["username"] for client in clients if is_gateway_client(client)}
    found |= {
        role.removeprefix(GATEWAY_ROLE_PREFIX)
        for role in roles
        if role.startswith(GATEWAY_ROLE_PREFIX)
    }
    return found - known
