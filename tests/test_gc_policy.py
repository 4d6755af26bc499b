"""What a leadership loads is kept out of full collections, and handed back when it ends."""

import gc

from elasticjob_cloud import gc_policy


def test_loaded_objects_are_frozen_until_released():
    gc_policy.release()
    loaded = [{"job": i} for i in range(1000)]
    gc_policy.freeze_loaded("test")
    assert gc.get_freeze_count() >= len(loaded)
    gc_policy.release()
    assert gc.get_freeze_count() == 0
