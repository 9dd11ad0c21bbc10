// Package redistest starts a Redis Cluster of real redis-server processes
// for the Redis adapter's cluster-mode tests. A single redis-server comes
// from internal/testenv (RedisServer), which this package builds on, with
// the same skip rules: under -short, or without redis-server or redis-cli,
// the test is skipped, unless the CI environment variable is set, in which
// case it fails.
package redistest
