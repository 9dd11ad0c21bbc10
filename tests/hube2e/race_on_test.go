//go:build race

package hube2e

// raceBuild: the tests run with -race, so the hub binary is built with it
// too and any data race in the hub under real clients fails the test.
const raceBuild = true
