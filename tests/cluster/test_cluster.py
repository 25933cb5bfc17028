"""Three real Epoch nodes: one leader, forwarding from followers, leader change (scenarios #84-#91, #95)."""

from __future__ import annotations

import copy
import re
import signal
import uuid
from typing import Any

import psutil
import requests

from tests.cluster.conftest import ADMIN, LEADER_PATH, Cluster, Node, wait_for
from tests.topologies.api.conftest import FIXTURE_TOPOLOGY

TOPOLOGIES = "/apis/v1/topologies"
ELECTION = "/epoch/leader-selection"
KEY_HEADERS = ("Content-Type", "WWW-Authenticate", "Allow", "Location")


def topology(name: str | None = None, **task_changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(FIXTURE_TOPOLOGY)
    body["name"] = name or f"cluster-{uuid.uuid4().hex[:8]}"
    body["task"].update(task_changes)
    return body


def create(node: Node, body: dict[str, Any]) -> requests.Response:
    response = node.request("POST", TOPOLOGIES, json=body, auth=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "SUCCESS", response.text
    return response


def same_answer(via: requests.Response, direct: requests.Response) -> None:
    assert (via.status_code, via.content) == (direct.status_code, direct.content)
    for name in KEY_HEADERS:
        assert via.headers.get(name) == direct.headers.get(name), name


def chroot_of(cluster: Cluster) -> str:
    return cluster.nodes[0].settings["ZK_CONNECTION_STRING"].split("/", 1)[1]


def test_one_leader_named_by_every_node_and_registered_in_zookeeper(
    three_nodes: Cluster,
) -> None:
    leader = three_nodes.agreed_leader()
    for node in three_nodes.nodes:
        response = node.get(LEADER_PATH, auth=ADMIN)
        assert response.status_code == 200
        assert response.json() == {"leader": leader.url}  # no envelope

    election = f"/{chroot_of(three_nodes)}{ELECTION}"
    children = three_nodes.zk.get_children(election)
    assert len(children) == 3
    pattern = re.compile(r"_c_[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}-lock-\d{10}")
    assert all(pattern.fullmatch(name) for name in children), children
    first = min(children, key=lambda name: name.rsplit("lock-", 1)[1])
    assert three_nodes.zk.get(f"{election}/{first}")[0].decode() == leader.url
    registered = {three_nodes.zk.get(f"{election}/{name}")[0].decode() for name in children}
    assert registered == {node.url for node in three_nodes.nodes}


def test_writes_through_a_follower_land_on_the_leader(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[0]
    body = topology()
    path = f"{TOPOLOGIES}/{body['name']}"

    created = create(follower, body)
    assert created.json()["data"]["topology"] == body
    assert follower.get(path, auth=ADMIN).json()["data"]["topology"] == body  # read-your-write
    answers = {node.url: node.get(path, auth=ADMIN) for node in three_nodes.nodes}
    assert {a.status_code for a in answers.values()} == {200}
    assert len({a.content for a in answers.values()}) == 1
    assert answers[leader.url].json()["data"]["topology"] == body

    paused = follower.request("PUT", f"{path}/pause", auth=ADMIN)
    assert paused.status_code == 200, paused.text
    assert paused.json()["data"]["state"] == "PAUSED"
    assert leader.get(path, auth=ADMIN).json()["data"]["state"] == "PAUSED"

    deleted = follower.request("DELETE", path, auth=ADMIN)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"status": "SUCCESS", "data": True, "message": "success"}
    for node in three_nodes.nodes:
        gone = node.get(path, auth=ADMIN)  # A5 answers an unknown id with 200 FAILED
        assert gone.json() == {
            "status": "FAILED",
            "message": f"No such topology: {body['name']}",
        }


def test_forwarded_answers_equal_the_leaders_direct_answers(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[1]
    body = topology()
    path = f"{TOPOLOGIES}/{body['name']}"
    create(leader, body)
    cookie = {"Cookie": "a=b; c=d"}
    missing = f"{TOPOLOGIES}/no-such-{uuid.uuid4().hex[:8]}"

    for method, target, kwargs in [
        ("GET", path, {"auth": ADMIN}),
        ("GET", f"{path}?x=1&y=%20z", {"auth": ADMIN, "headers": cookie}),
        ("GET", f"{TOPOLOGIES}", {"headers": cookie}),  # 401 from the leader
        ("GET", missing, {"auth": ADMIN}),
        ("POST", TOPOLOGIES, {"auth": ADMIN, "json": body}),  # already exists
        ("POST", TOPOLOGIES, {"auth": ADMIN, "data": b"{not json", "headers": cookie}),
        ("PUT", f"{missing}/pause", {"auth": ADMIN}),
        ("PUT", f"{path}/pause", {"auth": ("guest", "guest")}),  # 403 for a read-only user
        ("DELETE", missing, {"auth": ADMIN}),
        ("PATCH", path, {"auth": ADMIN, "json": {}}),
    ]:
        via = follower.request(method, target, **kwargs)
        direct = leader.request(method, target, **kwargs)
        assert via.status_code != 500, (method, target, via.text)
        same_answer(via, direct)


def test_patch_is_forwarded_and_refused_by_the_leader(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    for follower in three_nodes.followers(leader):
        response = follower.request("PATCH", TOPOLOGIES, auth=ADMIN, json={"a": 1})
        assert response.status_code == 405, response.text
        assert response.json()["status"] == "FAILED"
        assert response.json()["message"].startswith("[2003]"), response.text


def test_topology_id_ending_in_ui_reaches_its_own_path(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[0]
    name = f"build{uuid.uuid4().hex[:6]}-ui"
    body = topology(name)
    create(follower, body)
    response = follower.get(f"{TOPOLOGIES}/{name}", auth=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["topology"]["name"] == name
    for suffix in ("", "/update"):
        page = f"/topologies/{name}{suffix}"
        via = follower.get(page, allow_redirects=False)
        same_answer(via, leader.get(page, allow_redirects=False))


def test_challenge_from_the_leader_passes_through_a_follower(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    for follower in three_nodes.followers(leader):
        for auth in (None, ("admin", "wrong")):
            response = follower.get(TOPOLOGIES, auth=auth)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == 'Basic realm="realm"'


def test_forwarded_request_is_never_forwarded_again(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    marker = {"X-Epoch-Forwarded-By": "http://127.0.0.1:1"}
    for follower in three_nodes.followers(leader):
        response = follower.get(TOPOLOGIES, auth=ADMIN, headers=marker)
        assert response.status_code == 500
        assert response.json() == {
            "status": "FAILED",
            "message": f"Error proxying request due to error: {follower.url} is not the leader",
        }
    assert leader.get(TOPOLOGIES, auth=ADMIN, headers=marker).status_code == 200


def test_follower_answers_health_and_ping_locally(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    for follower in three_nodes.followers(leader):
        health = requests.get(f"{follower.admin_url}/healthcheck", timeout=5)
        assert health.status_code == 200, health.text
        assert all(check["healthy"] for check in health.json().values()), health.text
        ping = requests.get(f"{follower.admin_url}/ping", timeout=5)
        assert (ping.status_code, ping.text.strip()) == (200, "pong")


def session_cookie(node: Node) -> str:
    """Logs in on ``node`` (login pages are answered locally) and returns the session cookie."""
    session = requests.Session()
    session.get(f"{node.url}/login", timeout=5)
    token = session.cookies["epoch_csrftoken"]
    response = session.post(
        f"{node.url}/login",
        data={"username": "admin", "password": "admin", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{node.url}/login"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(session.cookies["epoch_session"])


def test_cookies_travel_verbatim_to_the_leader_for_ui_pages(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[1]
    name = f"deploy{uuid.uuid4().hex[:6]}-ui"
    create(leader, topology(name))
    cookie = {"Cookie": f"a=b; c=d; epoch_session={session_cookie(follower)}"}

    page = follower.get(f"/topologies/{name}", headers=cookie, allow_redirects=False)
    assert page.status_code == 200, page.text[:500]  # the leader accepted the session cookie
    assert name in page.text
    direct = leader.get(f"/topologies/{name}", headers=cookie, allow_redirects=False)
    assert (page.status_code, page.headers["Content-Type"]) == (  # pages carry a fresh CSRF token
        direct.status_code,
        direct.headers["Content-Type"],
    )

    anonymous = follower.get(f"/topologies/{name}", allow_redirects=False)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")


def run_now(node: Node, topology_id: str) -> str:
    response = node.request("PUT", f"{TOPOLOGIES}/{topology_id}/run", auth=ADMIN)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["runId"])


def run_of(node: Node, topology_id: str, run_id: str) -> dict[str, Any]:
    response = node.get(f"{TOPOLOGIES}/{topology_id}/runs/{run_id}", auth=ADMIN, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_instant_run_through_a_follower_completes_on_the_simulator(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[0]
    body = topology()
    create(follower, body)
    run_id = run_now(follower, body["name"])

    def finished() -> dict[str, Any] | None:
        run = run_of(follower, body["name"], run_id)
        return run if run["state"] != "RUNNING" else None

    run = wait_for(finished, timeout_s=20)
    assert run["state"] == "COMPLETED", run
    assert run["tasks"]


def test_sigterm_on_the_leader_hands_over_to_another_node(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    assert leader.process is not None
    leader.kill(signal.SIGTERM)
    assert leader.process.wait(timeout=40) == 143

    successor = three_nodes.agreed_leader(timeout_s=10)
    assert successor is not leader
    for node in three_nodes.live:
        assert node.get(LEADER_PATH, auth=ADMIN).json() == {"leader": successor.url}
    follower = three_nodes.followers(successor)[0]
    body = topology()
    create(follower, body)
    assert successor.get(f"{TOPOLOGIES}/{body['name']}", auth=ADMIN).status_code == 200


def creates_of(cluster: Cluster, task_id: str) -> list[dict[str, Any]]:
    """The CREATE operations the simulator received for one task id."""
    return [
        entry
        for entry in cluster.simulator.requests(method="POST", path="/operations")
        if isinstance(entry["body"], dict)
        and entry["body"].get("type") == "CREATE"
        and entry["body"].get("spec", {}).get("taskId") == task_id
    ]


def test_sigkill_on_the_leader_during_a_run_resumes_the_same_run(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[0]
    body = topology(env={"DROVE_SIM_DURATION": "5s"})
    topology_id = body["name"]
    create(follower, body)
    run_id = run_now(follower, topology_id)
    prefix = f"{topology_id}-{run_id}-"

    def ours() -> list[Any]:
        return [t for t in three_nodes.simulator.store.tasks() if t.task_id.startswith(prefix)]

    def running_on_drove() -> dict[str, Any] | None:
        run = run_of(leader, topology_id, run_id)
        running = [task for task in ours() if task.state == "RUNNING"]
        recorded = all("upstreamId" in task for task in run["tasks"].values())
        return run if run["state"] == "RUNNING" and running and recorded else None

    before = wait_for(running_on_drove, timeout_s=15)
    leader.kill(signal.SIGKILL)
    assert leader.process is not None
    leader.process.wait(timeout=10)

    successor = three_nodes.agreed_leader(timeout_s=20)
    assert successor is not leader

    def finished() -> dict[str, Any] | None:
        run = run_of(successor, topology_id, run_id)
        return run if run["state"] != "RUNNING" else None

    after = wait_for(finished, timeout_s=30)
    assert after["state"] == "COMPLETED", after
    assert after["created"] == before["created"]
    assert after["runId"] == run_id
    upstream = {task["upstreamId"] for task in before["tasks"].values()}
    assert {task["upstreamId"] for task in after["tasks"].values()} == upstream
    tasks = ours()
    assert len(tasks) == 1, tasks
    assert tasks[0].state == "STOPPED", tasks[0].history
    assert len(creates_of(three_nodes, tasks[0].task_id)) == 1


def mirror_process_of(node: Node) -> psutil.Process:
    """The child of the node's ``run_scheduler`` that keeps its SQL mirror."""
    assert node.process is not None
    launcher = psutil.Process(node.process.pid)
    children = launcher.children(recursive=True)
    (mirror,) = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
    return mirror


def test_a_node_whose_mirror_process_dies_stops(three_nodes: Cluster) -> None:
    leader = three_nodes.agreed_leader()
    follower = three_nodes.followers(leader)[0]
    assert follower.process is not None
    mirror_process_of(follower).kill()
    assert follower.process.wait(timeout=30) != 0  # a node must not serve from a dead mirror
    assert "The mirror process stopped" in follower.log_tail(200)
    assert three_nodes.agreed_leader() is leader
