"""The console sessions' shared key and logouts, over the in-memory tree and a real ZooKeeper."""

from __future__ import annotations

import threading

import pytest

from elasticjob_cloud.exceptions import RegistryUnavailable
from elasticjob_cloud.registry.console_keys import LOGOUTS, SECRET, ConsoleKeys
from elasticjob_cloud.registry.tree import Create, SetData
from tests.support import wait_until


def test_every_instance_gets_the_one_key_whoever_creates_it(registry):
    instances = [ConsoleKeys(registry.tree) for _ in range(6)]
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda k=k: keys.append(k.signing_key())) for k in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(keys) == 6 and len(set(keys)) == 1 and len(keys[0]) == 32
    assert registry.tree.get(SECRET)[0] == keys[0].hex().encode()


def test_an_unreadable_key_is_an_error_not_a_new_key(registry):
    registry.tree.ensure("/config")
    registry.tree.commit([Create(SECRET, b"not-hex")])
    with pytest.raises(RegistryUnavailable, match="64 hex digits"):
        ConsoleKeys(registry.tree).signing_key()
    registry.tree.commit([SetData(SECRET, b"ab" * 8)])  # too short to sign with
    with pytest.raises(RegistryUnavailable):
        ConsoleKeys(registry.tree).signing_key()


def test_a_logout_is_seen_by_every_instance_and_expired_ones_are_removed(registry):
    one, other = ConsoleKeys(registry.tree), ConsoleKeys(registry.tree)
    assert not other.is_logged_out("nonce-aaaaaaaa")  # starts watching
    one.log_out("nonce-aaaaaaaa", 1_000, now=500)
    wait_until(
        lambda: other.is_logged_out("nonce-aaaaaaaa"), 10, 0.05, "the logout seen by the other instance"
    )
    one.log_out("nonce-bbbbbbbb", 3_000, now=2_000)  # the first session expired at 1,000: its entry goes
    assert registry.tree.children(LOGOUTS) == ["3000-nonce-bbbbbbbb"]
    wait_until(lambda: not other.is_logged_out("nonce-aaaaaaaa"), 10, 0.05, "the expired entry dropped")
    assert other.is_logged_out("nonce-bbbbbbbb")
    with pytest.raises(ValueError):
        one.log_out("../../x", 3_000, now=2_000)
    one.stop()
    other.stop()
