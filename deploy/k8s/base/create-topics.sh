#!/bin/bash
# Creates Stopclock's Kafka topics and their dead-letter twins; safe to run again.
# Used by the Kubernetes Job (deploy/k8s/base/kafka-topics-job.yaml) and by the kafka-init
# service of docker-compose.yml, both with the apache/kafka image.
# 12 partitions: up to 12 replicas of a service share a topic's work.
set -euo pipefail

bootstrap="${STOPCLOCK_KAFKA_BOOTSTRAP:?STOPCLOCK_KAFKA_BOOTSTRAP must be set}"
partitions="${STOPCLOCK_KAFKA_PARTITIONS:-12}"
replication="${STOPCLOCK_KAFKA_REPLICATION_FACTOR:-1}"
kafka_topics="${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}"

topics=(
  tickets.events
  tickets.commands
  sla.events
  escalations.events
  surveys.events
  outages.events
  notifications.events
  people.events
)

for topic in "${topics[@]}"; do
  for name in "${topic}" "${topic}.dlq"; do
    "${kafka_topics}" --bootstrap-server "${bootstrap}" --create --if-not-exists \
      --topic "${name}" --partitions "${partitions}" --replication-factor "${replication}"
  done
done
echo "topics ready: ${#topics[@]} topics and their .dlq twins, ${partitions} partitions each"
