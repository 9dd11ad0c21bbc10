// Package testenv is what the module's tests share to find and start the
// real parts they run against: the repository root, a binary the test
// needs (node, redis-server, haproxy, ...), the Node packages installed in
// tests/node/node_modules, a free loopback port, a private redis-server, a
// child process stopped at cleanup, and poll-until waits.
//
// The rule every test in the module follows lives here, in Require: a
// missing prerequisite skips the test when the environment variable CI is
// unset or empty, and fails it when CI is set (CI must never pass by
// skipping). Functions that can miss a prerequisite take a testing.TB first
// and apply that rule; the Find* and Start* variants without a testing.TB
// return errors for TestMain.
//
// Processes are started on 127.0.0.1 only, each test gets its own, and
// they are stopped by PID in tb.Cleanup.
//
// It is a normal (non-test) package so that every test package of the
// module can import it; production code must not. All functions are safe
// for concurrent use by parallel tests; a *Redis is safe for concurrent
// use.
package testenv
