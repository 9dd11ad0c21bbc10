package pulumimock

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource.
type Resource struct {
	Type, Name string
	Parent     string // parent URN
	Custom     bool
	Inputs     resource.PropertyMap
}

// Key is "type::name", unique within a program run.
func (r Resource) Key() string { return r.Type + "::" + r.Name }

// Recorder is a pulumi.MockResourceMonitor that echoes inputs as outputs.
type Recorder struct {
	mu   sync.Mutex
	res  map[string]Resource
	urns map[string]string // URN -> key
}

var _ pulumi.MockResourceMonitor = (*Recorder)(nil)

// New returns an empty Recorder.
func New() *Recorder {
	return &Recorder{res: map[string]Resource{}, urns: map[string]string{}}
}

// NewResource implements pulumi.MockResourceMonitor.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	if args.RegisterRPC != nil {
		rec.Parent = args.RegisterRPC.GetParent()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.res[rec.Key()]; dup {
		return "", nil, fmt.Errorf("pulumimock: duplicate resource %s", rec.Key())
	}
	r.res[rec.Key()] = rec
	return args.Name + "-id", args.Inputs, nil
}

// Call implements pulumi.MockResourceMonitor; the kit calls no functions.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("pulumimock: unexpected call %s", args.Token)
}

// Run runs program under mocks for project "hubkit" and the given stack.
// config keys are without the "hubkit:" prefix; secret lists the keys stored
// as secrets. dryRun selects preview (true) or update (false).
func (r *Recorder) Run(program pulumi.RunFunc, stack string, config map[string]string, secret []string, dryRun bool) error {
	cfg := map[string]string{}
	for k, v := range config {
		cfg["hubkit:"+k] = v
	}
	var secretKeys []string
	for _, k := range secret {
		secretKeys = append(secretKeys, "hubkit:"+k)
	}
	return pulumi.RunErr(program, pulumi.WithMocks("hubkit", stack, r), func(ri *pulumi.RunInfo) {
		ri.Config = cfg
		ri.ConfigSecretKeys = secretKeys
		ri.DryRun = dryRun
	})
}

// Resources returns every recorded resource, sorted by key.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Resource, 0, len(r.res))
	for _, v := range r.res {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Get returns the resource of type typ named name.
func (r *Recorder) Get(typ, name string) (Resource, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.res[typ+"::"+name]
	return v, ok
}

// OfType returns the resources of one type, sorted by name.
func (r *Recorder) OfType(typ string) []Resource {
	var out []Resource
	for _, v := range r.Resources() {
		if v.Type == typ {
			out = append(out, v)
		}
	}
	return out
}

// Leaf is one scalar in a flattened input tree.
type Leaf struct {
	Value  string
	Secret bool // under a secret marker somewhere up the path
}

// Flatten returns every scalar leaf of m keyed by its path
// ("spec.template.spec.containers[0].image").
func Flatten(m resource.PropertyMap) map[string]Leaf {
	out := map[string]Leaf{}
	flatten("", resource.NewObjectProperty(m), false, out)
	return out
}

func flatten(path string, v resource.PropertyValue, secret bool, out map[string]Leaf) {
	switch {
	case v.IsSecret():
		flatten(path, v.SecretValue().Element, true, out)
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			secret = true
		}
		if !o.Known {
			out[path] = Leaf{Value: "<unknown>", Secret: secret}
			return
		}
		flatten(path, o.Element, secret, out)
	case v.IsComputed():
		out[path] = Leaf{Value: "<computed>", Secret: secret}
	case v.IsObject():
		obj := v.ObjectValue()
		if len(obj) == 0 {
			out[path] = Leaf{Value: "{}", Secret: secret}
		}
		for k, e := range obj {
			p := string(k)
			if path != "" {
				p = path + "." + p
			}
			flatten(p, e, secret, out)
		}
	case v.IsArray():
		arr := v.ArrayValue()
		if len(arr) == 0 {
			out[path] = Leaf{Value: "[]", Secret: secret}
		}
		for i, e := range arr {
			flatten(fmt.Sprintf("%s[%d]", path, i), e, secret, out)
		}
	case v.IsNull():
		out[path] = Leaf{Value: "null", Secret: secret}
	default:
		out[path] = Leaf{Value: fmt.Sprint(v.V), Secret: secret}
	}
}

// Value returns the leaf at path in r's inputs ("" if absent).
func (r Resource) Value(path string) string {
	return Flatten(r.Inputs)[path].Value
}

// Prefixed returns the leaves of r's inputs under path prefix.
func (r Resource) Prefixed(prefix string) map[string]Leaf {
	out := map[string]Leaf{}
	for k, v := range Flatten(r.Inputs) {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// Diff lists every path whose leaf differs between two runs, as
// "key path: a -> b", including resources present in only one run.
func Diff(a, b *Recorder) []string {
	var out []string
	ra, rb := map[string]Resource{}, map[string]Resource{}
	for _, v := range a.Resources() {
		ra[v.Key()] = v
	}
	for _, v := range b.Resources() {
		rb[v.Key()] = v
	}
	for k, va := range ra {
		vb, ok := rb[k]
		if !ok {
			out = append(out, k+": only in first run")
			continue
		}
		fa, fb := Flatten(va.Inputs), Flatten(vb.Inputs)
		for p, la := range fa {
			if lb, ok := fb[p]; !ok || la != lb {
				out = append(out, fmt.Sprintf("%s %s: %v -> %v", k, p, la.Value, fb[p].Value))
			}
		}
		for p, lb := range fb {
			if _, ok := fa[p]; !ok {
				out = append(out, fmt.Sprintf("%s %s: <absent> -> %v", k, p, lb.Value))
			}
		}
		if va.Parent != vb.Parent {
			out = append(out, fmt.Sprintf("%s parent: %s -> %s", k, va.Parent, vb.Parent))
		}
	}
	for k := range rb {
		if _, ok := ra[k]; !ok {
			out = append(out, k+": only in second run")
		}
	}
	sort.Strings(out)
	return out
}
