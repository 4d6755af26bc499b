#!/bin/sh
# SCRIPT job of the example app: the sharding context arrives as JSON in the last argument.
for context; do :; done
echo "demo.sh got: $context"
if [ -n "$ELASTICJOB_EXAMPLE_RECORD_DIR" ]; then
    printf 'script %s %s\n' "$$" "$context" >> "$ELASTICJOB_EXAMPLE_RECORD_DIR/records.txt"
fi
case "$context" in
    *'"shardingParameter":"fail"'*) echo "demo.sh: this shard is told to fail" >&2; exit 3 ;;
esac
