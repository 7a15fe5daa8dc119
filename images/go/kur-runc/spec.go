package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// stripCgroups rewrites the OCI runtime spec at path so that runc neither creates a cgroup nor
// sets a limit: it deletes linux.cgroupsPath and every member of linux.resources except
// devices. It returns one "field=value" entry per removed field (sorted), and rewrites nothing
// when there is nothing to remove.
//
// Only the edited objects are decoded; everything else is copied as raw JSON, so numbers such as
// 64-bit rlimits or IDs keep their exact text.
//
// Device rules stay: runc ignores them itself in a user namespace (the devices controller is
// skipped there, and the kernel refuses mknod of device nodes anyway), and where runc can apply
// them (no user namespace) they are a security boundary, not a limit.
func stripCgroups(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rawLinux, ok := spec["linux"]
	if !ok || isNull(rawLinux) {
		return nil, nil
	}
	var linux map[string]json.RawMessage
	if err := json.Unmarshal(rawLinux, &linux); err != nil {
		return nil, fmt.Errorf("%s: linux: %w", path, err)
	}

	var removed []string
	if v, ok := linux["cgroupsPath"]; ok {
		removed = append(removed, "linux.cgroupsPath="+compact(v))
		delete(linux, "cgroupsPath")
	}
	if rawResources, ok := linux["resources"]; ok {
		var resources map[string]json.RawMessage
		if err := json.Unmarshal(rawResources, &resources); err != nil {
			return nil, fmt.Errorf("%s: linux.resources: %w", path, err)
		}
		for name, v := range resources {
			if name == "devices" {
				continue
			}
			removed = append(removed, "linux.resources."+name+"="+compact(v))
			delete(resources, name)
		}
		if len(resources) == 0 {
			delete(linux, "resources")
		} else if linux["resources"], err = json.Marshal(resources); err != nil {
			return nil, err
		}
	}
	if len(removed) == 0 {
		return nil, nil
	}
	sort.Strings(removed)

	if spec["linux"], err = json.Marshal(linux); err != nil {
		return nil, err
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return removed, replaceFile(path, out)
}

// replaceFile writes data next to path and renames it over path, keeping path's mode, so runc
// never reads a half-written spec.
func replaceFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config.json.kur-runc-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := firstError(werr, cerr, os.Chmod(tmp.Name(), info.Mode().Perm())); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}
