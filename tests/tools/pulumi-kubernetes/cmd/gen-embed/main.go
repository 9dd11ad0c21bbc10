// Command gen-embed writes the compact schema-embed.json and
// terraform-mapping-embed.json the provider binary embeds, from the provider
// module's schema.json and terraform-mapping.json, stamping the schema version.
//
// Usage: gen-embed -version 4.25.0 -src <module cmd dir> -dst <build dir>
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	version := flag.String("version", "", "provider version to stamp into the schema")
	src := flag.String("src", "", "directory holding schema.json and terraform-mapping.json")
	dst := flag.String("dst", ".", "directory to write the *-embed.json files into")
	flag.Parse()
	if err := run(*version, *src, *dst); err != nil {
		fmt.Fprintln(os.Stderr, "gen-embed:", err)
		os.Exit(1)
	}
}

func run(version, src, dst string) error {
	if version == "" || src == "" {
		return fmt.Errorf("-version and -src are required")
	}
	var schema map[string]any
	if err := readJSON(filepath.Join(src, "schema.json"), &schema); err != nil {
		return err
	}
	schema["version"] = version
	if err := writeJSON(filepath.Join(dst, "schema-embed.json"), schema); err != nil {
		return err
	}
	var mapping any
	if err := readJSON(filepath.Join(src, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dst, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
