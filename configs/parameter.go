package configs

import (
	"fmt"
	"maps"
)

// validate applies the reference's ParameterDefinition checks: a distinct-by-branch
// parameter takes a table of branch values, any other parameter a string.
func (p *ParameterSpec) validate() error {
	for _, v := range []any{p.Value, p.Default} {
		switch v.(type) {
		case map[string]string:
			if !p.DistinctByBranch {
				return fmt.Errorf("parameter %q: a table of branch values needs distinct_by_branch = true", p.Name)
			}
		case string:
			if p.DistinctByBranch {
				return fmt.Errorf("parameter %q: distinct_by_branch = true needs a table of branch values, got a string", p.Name)
			}
		}
	}
	return nil
}

// mergeParameter merges an outcome's parameter (p2) under the experiment's (p1); p2 gives
// the defaults.
func mergeParameter(p1, p2 *ParameterSpec) (*ParameterSpec, error) {
	def := orAny(p1.Default, p2.Default)
	value := orAny(p1.Value, orAny(p2.Value, def))
	if vm, ok := value.(map[string]string); ok {
		if dm, ok := def.(map[string]string); ok {
			merged := maps.Clone(dm)
			maps.Copy(merged, vm)
			value = merged
		}
	}
	out := &ParameterSpec{
		Name:             orStr(p1.Name, p2.Name),
		FriendlyName:     orStr(p1.FriendlyName, p2.FriendlyName),
		Description:      orStr(p1.Description, p2.Description),
		Value:            value,
		Default:          orAny(p1.Default, def),
		DistinctByBranch: p1.DistinctByBranch || p2.DistinctByBranch,
	}
	if out.Default == nil {
		if _, ok := value.(map[string]string); ok {
			out.Default = map[string]string{}
		}
	}
	return out, out.validate()
}
