// Package procfs reads the two numbers the load tool needs about a server
// process from Linux /proc: resident memory (VmRSS in /proc/<pid>/status) and
// CPU time (utime+stime in /proc/<pid>/stat, all threads of the process).
//
// Every function is safe for concurrent use; each call reads /proc afresh.
package procfs
