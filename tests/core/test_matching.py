import pytest

from elasticjob_cloud.core.matching import AgentOffers, RunRequest, ShardRequest, group_offers, match
from elasticjob_cloud.core.models import TaskType


def shards(job, app, count, cpus=1.0, mem=128.0, task_type=TaskType.READY, **kw):
    return tuple(ShardRequest(job, i, task_type, app, cpus, mem, **kw) for i in range(count))


def agent(agent_id, cpus, mem, apps=()):
    return AgentOffers(agent_id, f"host-{agent_id}", [f"offer-{agent_id}"], cpus, mem, set(apps))


COST = {"app1": (1.0, 128.0), "app2": (1.0, 128.0)}


@pytest.mark.parametrize(("apps", "placed"), [(1, 9), (2, 8)])
def test_executor_cost_is_charged_once_per_app_per_agent(apps, placed):
    """10 one-cpu shards on a 10-cpu agent: each app's executor takes one cpu, once."""
    runs = [RunRequest(shards(f"job{i}", f"app{i % apps + 1}", 1)) for i in range(10)]
    plan = match(runs, [agent("a", 10, 10 * 128.0)], COST)
    assert len(plan.placements) == placed
    assert len(plan.unplaced) == 10 - placed


def test_twenty_shards_of_two_apps_fit_two_agents_of_eleven_cpus():
    """20 tasks + 2 executors need 22 cpus: grouping each app on one agent fits them all."""
    runs = [RunRequest(shards(f"job{i}", f"app{i % 2 + 1}", 1)) for i in range(20)]
    plan = match(runs, [agent("a", 11, 11 * 128.0), agent("b", 11, 11 * 128.0)], COST)
    for agent_id in ("a", "b"):
        on_agent = [p for p in plan.placements if p.agent_id == agent_id]
        assert len(on_agent) + len({p.shard.app_name for p in on_agent}) <= 11
    assert len(plan.placements) >= 18


def test_running_executor_is_not_charged_again():
    runs = [RunRequest(shards("job", "app1", 4))]
    assert match(runs, [agent("a", 4, 4096)], COST).unplaced == runs
    assert len(match(runs, [agent("a", 4, 4096, apps={"app1"})], COST).placements) == 4


def test_ready_run_is_all_or_nothing_and_frees_what_it_tried():
    big = RunRequest(shards("big", "app1", 3, cpus=2.0))
    small = RunRequest(shards("small", "app1", 1, cpus=1.0))
    plan = match([big, small], [agent("a", 4, 4096)], COST)
    assert plan.unplaced == [big]
    assert [p.shard.job_name for p in plan.placements] == ["small"]


def test_command_executor_tasks_pay_no_executor_cost():
    run = RunRequest(shards("script", "app1", 2, uses_executor=False))
    assert len(match([run], [agent("a", 2, 256)], COST).placements) == 2


def test_shards_spread_over_agents_and_failover_avoids_its_agent():
    plan = match([RunRequest(shards("job", "app1", 4))], [agent("a", 8, 8192), agent("b", 8, 8192)], COST)
    assert sorted(p.agent_id for p in plan.placements) == ["a", "a", "b", "b"]
    retry = ShardRequest("job", 1, TaskType.FAILOVER, "app1", 1.0, 1.0, avoid_agent="a")
    plan = match([RunRequest((retry,))], [agent("a", 8, 8192), agent("b", 2, 2048)], COST)
    assert plan.placements[0].agent_id == "b"
    alone = match([RunRequest((retry,))], [agent("a", 8, 8192)], COST)
    assert alone.placements[0].agent_id == "a"  # avoided when possible, not at the price of not running


def test_offers_used_and_declined():
    plan = match([RunRequest(shards("job", "app1", 1))], [agent("a", 8, 8192), agent("b", 0.5, 64)], COST)
    assert plan.used_offer_ids == {"a": ["offer-a"]}
    assert plan.unused_offer_ids == ["offer-b"]


def test_group_offers_sums_per_agent_and_reads_running_executors():
    def offer(offer_id, agent_id, cpus, mem, executors=()):
        return {
            "id": {"value": offer_id},
            "agent_id": {"value": agent_id},
            "hostname": "h",
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
                {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 2}]}},
            ],
            "executor_ids": [{"value": e} for e in executors],
        }

    grouped = group_offers(
        [offer("o1", "S0", 1, 100, ["app1@-@S0"]), offer("o2", "S0", 2, 200), offer("o3", "S1", 4, 400)],
        lambda executor_id: executor_id.split("@-@")[0] if "@-@" in executor_id else None,
    )
    s0 = next(a for a in grouped if a.agent_id == "S0")
    assert (s0.offer_ids, s0.cpus, s0.mem, s0.executor_apps) == (["o1", "o2"], 3.0, 300.0, {"app1"})
