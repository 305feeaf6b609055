// helm-render renders a Helm 3 chart the way `helm template` does, for the chart tests:
// Go's text/template with the sprig functions plus the functions Helm adds
// (include, tpl, required, toYaml, fromYaml, toJson), one "# Source:" document per template.
// Helm itself cannot be installed on the test machines; this is its rendering core.
//
// Usage: helm-render CHART_DIR RELEASE NAMESPACE < values.json
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

func toYaml(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYaml(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJson(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: helm-render CHART_DIR RELEASE NAMESPACE < values.json")
		os.Exit(2)
	}
	chartDir, release, namespace := os.Args[1], os.Args[2], os.Args[3]
	raw, err := io.ReadAll(os.Stdin)
	check(err)
	values := map[string]interface{}{}
	check(json.Unmarshal(raw, &values))

	chartRaw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	check(err)
	chartMeta := map[string]interface{}{}
	check(yaml.Unmarshal(chartRaw, &chartMeta))
	chartName := fmt.Sprint(chartMeta["name"])
	chart := map[string]interface{}{"Name": chartName, "Version": chartMeta["version"], "AppVersion": chartMeta["appVersion"]}

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	check(err)
	sort.Strings(files)
	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = fromYaml
	funcs["toJson"] = toJson
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs).Option("missingkey=zero")
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		check(err)
		name := chartName + "/templates/" + filepath.Base(f)
		_, err = root.New(name).Parse(string(b))
		check(err)
		names = append(names, name)
	}

	var out bytes.Buffer
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{
			"Values":       values,
			"Release":      map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
			"Chart":        chart,
			"Template":     map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"},
			"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.32.0", "Major": "1", "Minor": "32"}},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
			os.Exit(1)
		}
		text := strings.TrimSpace(buf.String())
		if text == "" {
			continue
		}
		if base == "NOTES.txt" {
			fmt.Fprintf(os.Stderr, "%s\n", text)
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, text)
	}
	os.Stdout.Write(out.Bytes())
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
