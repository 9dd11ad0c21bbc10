//go:build !race

package hube2e

const raceBuild = false
