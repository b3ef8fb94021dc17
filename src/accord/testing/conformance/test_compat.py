"""The seeds' own examples on accord, verbatim but for the import line and the URL
(the LLM calls replaced by plain functions): AgentCoord's quick start
(``accord.compat.agentcoord``) and redis-openai-agents' coordination guide
(``accord.compat.redis_openai_agents``), on every store. One run per store: each
example is written for one API (AgentCoord sync, redis-openai-agents async)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import pytest

import accord
from accord.errors import BackendUnavailable

pytestmark = [
    pytest.mark.accord_capability(
        "leases", "state", "events", "signals", "agents", "tasks", "streams", "approvals"
    ),
    pytest.mark.accord_sync_only,  # the examples pick their API themselves
]


def agentcoord_quick_start(REDIS_URL: str) -> None:
    # --- AgentCoord's README, "Quick Start", verbatim but for the import and the URL
    from accord.compat.agentcoord import CoordinationClient

    # Using context manager (recommended)
    with CoordinationClient.session(
        redis_url=REDIS_URL,
        role="Engineer",
        name="Agent-1",
        working_on="Building features"
    ) as coord:
        # Lock files atomically
        with coord.lock_file("backend/main.py", intent="Add /health endpoint"):
            # Safe to edit - lock auto-released on exit
            pass

        # Claim tasks from queue
        task = coord.claim_task(tags=["backend"])
        if task:
            print(f"Working on: {task.title}")

        # Post to board
        coord.post_thread(
            title="Deployment Complete",
            message="Backend v2.0 deployed successfully",
            priority="high"
        )

        # Log decisions
        coord.log_decision(
            decision_type="deployment",
            context="Backend v2.0",
            reason="New features tested and ready"
        )


async def test_agentcoord_quick_start_runs_as_written(url: str, coord: Any) -> None:
    with accord.connect(url) as setup:  # the seed works in the namespace "default"
        setup.drop_namespace(confirm="default")
    with accord.connect(url) as setup:
        task = setup.create_task("Add /health endpoint", tags=["backend"], priority=5)
    try:
        await asyncio.to_thread(agentcoord_quick_start, url)
        with accord.connect(url) as after:
            back = after.queue().get(task.id)
            assert back is not None  # the session's exit gave its claim back:
            assert (back.status, back.attempts) == ("ready", 0)
            [thread] = after.board.threads()
            assert (thread.title, thread.priority) == ("Deployment Complete", "high")
            [entry] = after.audit.read(kind="deployment")
            assert (entry.agent, entry.details["reason"]) == (
                "Agent-1", "New features tested and ready",
            )
            assert after.list_locks() == []
            assert after.agents.get("Agent-1") is None  # deregistered on exit
    finally:
        with accord.connect(url) as after:
            after.drop_namespace(confirm="default")


def agentcoord_manual_session(url: str) -> list[Any]:
    """AgentCoord's manual form (its examples/basic_usage.py, shortened)."""
    from accord.compat.agentcoord import CoordinationClient

    client = CoordinationClient(redis_url=url, fallback_dir="./workbench")
    agent_id = client.register_agent(role="CTO", name="Claude", working_on="features")
    with client.lock_file("backend/main.py", intent="Add /health endpoint"), \
            accord.connect(url) as other:
        held = other.list_locks()
    client.log_decision(decision_type="implementation", context="health", reason="monitoring")
    task = client.claim_task(tags=["backend"])
    client.shutdown()
    return [agent_id, client.mode, [s.holders[0].agent for s in held], task]


async def test_agentcoord_manual_client_maps_the_registry_calls(url: str) -> None:
    agent_id, mode, holders, task = await asyncio.to_thread(agentcoord_manual_session, url)
    assert (agent_id, mode, holders, task) == ("Claude", url.split(":")[0], ["Claude"], None)
    with accord.connect(url) as after:
        [entry] = after.audit.read(kind="implementation")
        assert entry.agent == "Claude" and after.agents.get("Claude") is None
        after.drop_namespace(confirm="default")
    from accord.compat.agentcoord import CoordinationClient

    with pytest.raises(accord.errors.ConfigError, match="register_agent"):
        CoordinationClient(redis_url=url).claim_task()


# --- redis-openai-agents' guide: the LLM calls replaced by plain functions -----------
@dataclass
class Agent:
    name: str
    instructions: str


@dataclass
class _Result:
    final_output: str


class Runner:
    @staticmethod
    async def run(agent: Agent, input: str) -> _Result:
        words = input.lower()
        return _Result("billing" if "charged" in words else "technical")


async def redis_openai_agents_guide(REDIS_URL: str) -> dict[str, Any]:
    # --- the guide, verbatim but for the import line and the URL (top-level awaits
    # inside this function; what it printed is returned to the test)
    from accord.compat.redis_openai_agents import AgentCoordinator, EventType

    # Create a coordinator for a session
    coordinator = AgentCoordinator(
        session_id="support-session-001",
        redis_url=REDIS_URL
    )

    print(f"Coordinator created for session: {coordinator.session_id}")

    # Available event types
    print("Available event types:")
    for event_type in EventType:
        print(f"  - {event_type.name}: {event_type.value}")

    # Publish a handoff event
    await coordinator.publish(EventType.HANDOFF_READY, {
        "from_agent": "triage",
        "to_agent": "billing_specialist",
        "context": {
            "issue_type": "refund",
            "order_id": "ORD-12345",
            "customer_id": "CUST-789"
        },
        "conversation_summary": "Customer requesting refund for order ORD-12345"
    })

    print("Handoff event published")
    # Publish agent status
    await coordinator.publish(EventType.AGENT_READY, {
        "agent_id": "billing_specialist",
        "capabilities": ["refunds", "invoices", "subscriptions"],
        "load": 0.3
    })

    print("Agent ready event published")

    # Define specialized agents
    triage_agent = Agent(
        name="triage",
        instructions="""You are a triage agent. Analyze the customer's request and
        determine which specialist should handle it. Categories: billing, technical, sales."""
    )

    async def triage_and_handoff(query: str, session_id: str):  # type: ignore[no-untyped-def]
        """Triage a query and handoff to specialist."""
        coord = AgentCoordinator(session_id=session_id, redis_url=REDIS_URL)

        # Run triage
        result = await Runner.run(
            triage_agent,
            input=f"Analyze this request and respond with the category (billing/technical/sales): {query}"  # noqa: E501
        )

        # Determine target agent
        category = result.final_output.lower()
        if "billing" in category:
            target = "billing_specialist"
        elif "technical" in category:
            target = "tech_specialist"
        else:
            target = "sales_specialist"

        # Signal handoff
        await coord.publish(EventType.HANDOFF_READY, {
            "from_agent": "triage",
            "to_agent": target,
            "query": query,
            "triage_result": result.final_output
        })

        return target
    # Test triage
    target = await triage_and_handoff(
        "I was charged twice for my subscription last month",
        "session-demo-001"
    )
    print(f"Handoff to: {target}")

    async def specialist_listener(agent_name: str, session_id: str):  # type: ignore[no-untyped-def]
        """Listen for handoff events for a specific agent."""
        coord = AgentCoordinator(session_id=session_id, redis_url=REDIS_URL)

        print(f"{agent_name} listening for events...")

        # In production, this would run continuously
        async for event in coord.subscribe(timeout=5.0):  # 5 second timeout for demo
            if event.type == EventType.HANDOFF_READY:  # noqa: SIM102 (as the guide has it)
                if event.data.get("to_agent") == agent_name:
                    print(f"\n{agent_name} received handoff!")
                    print(f"  From: {event.data.get('from_agent')}")
                    print(f"  Query: {event.data.get('query')}")
                    return event.data

        print(f"{agent_name} timeout - no events received")
        return None
    # Simulate specialist listening (with timeout)
    result = await specialist_listener("billing_specialist", "session-demo-001")
    # (beside the guide: a listener started before the handoff receives it)
    listening = asyncio.ensure_future(specialist_listener("billing_specialist", "session-demo-001"))
    while not listening.done():  # until it has subscribed and heard one (no hook to await)
        await triage_and_handoff("I was charged twice", "session-demo-001")
        await asyncio.wait({listening}, timeout=0.05)
    heard = listening.result()

    from accord.compat.redis_openai_agents import AtomicOperations

    # Create atomic operations handler
    atomic = AtomicOperations(redis_url=REDIS_URL)

    # Atomic handoff - ensures only one agent can claim a handoff
    claimed = await atomic.claim_handoff(
        session_id="session-demo-001",
        agent_id="billing_specialist"
    )

    if claimed:
        print("Handoff claimed successfully!")
    else:
        print("Handoff already claimed by another agent")
    # Try to claim again (should fail)
    claimed_again = await atomic.claim_handoff(
        session_id="session-demo-001",
        agent_id="tech_specialist"  # Different agent
    )

    print(f"Second claim attempt: {claimed_again}")
    # Release handoff
    await atomic.release_handoff(session_id="session-demo-001")
    print("Handoff released")
    claimed_after_release = await atomic.claim_handoff("session-demo-001", "tech_specialist")

    # Set shared state
    await coordinator.set_state("current_agent", "billing_specialist")
    await coordinator.set_state("issue_status", "in_progress")
    await coordinator.set_state("resolution", None)

    # Get state
    current = await coordinator.get_state("current_agent")
    print(f"Current agent: {current}")

    # Get all state
    all_state = await coordinator.get_all_state()
    print(f"All state: {all_state}")

    # Clean up
    await coordinator.clear()
    await atomic.clear()

    print("Coordination state cleared!")
    return {
        "target": target, "result": result, "heard": heard, "claimed": claimed,
        "claimed_again": claimed_again, "after_release": claimed_after_release,
        "current": current, "all_state": all_state,
        "left": await coordinator.get_all_state(),
        "handoff_left": await atomic.claim_handoff("session-demo-001", "x"),
    }


async def test_redis_openai_agents_guide_runs_as_written(url: str) -> None:
    seen = await redis_openai_agents_guide(url)
    assert seen["target"] == "billing_specialist"
    assert seen["result"] is None  # the guide's listener starts after the handoff
    assert seen["heard"]["to_agent"] == "billing_specialist"
    assert (seen["claimed"], seen["claimed_again"], seen["after_release"]) == (True, False, True)
    assert seen["current"] == "billing_specialist"
    assert seen["all_state"] == {
        "current_agent": "billing_specialist", "issue_status": "in_progress", "resolution": None,
    }
    assert seen["left"] == {} and seen["handoff_left"] is True  # clear() dropped both


async def test_no_silent_fallback_and_bad_input_refused() -> None:
    from accord.compat.agentcoord import CoordinationClient
    from accord.compat.redis_openai_agents import AgentCoordinator

    with pytest.raises(BackendUnavailable):
        await asyncio.to_thread(
            CoordinationClient.session, redis_url="redis://127.0.0.1:1/0", name="Agent-1"
        )
    coordinator = AgentCoordinator(session_id="s", redis_url=f"memory://{os.getpid()}-x")
    with pytest.raises(TypeError, match="EventType"):
        await coordinator.publish("handoff_ready", {})  # type: ignore[arg-type]
