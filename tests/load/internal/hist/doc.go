// Package hist is a mergeable log-linear histogram for latencies in
// nanoseconds: exact below 64 ns, then 64 buckets per power of two, so any
// reported percentile is within 1.6% of the true sample.
//
// Concurrency contract: a Histogram is not safe for concurrent use; give each
// goroutine its own and Merge them, or guard it with a mutex.
package hist
