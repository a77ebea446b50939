// This file is the venue's entity list endpoints: /list, /deps?masterid=,
// /ldeps?masterids=, /items?ids= and /item?id= for the entity types the
// desk reads (the common operations of every entity type, example-api-faq
// docs/WhatIsTheEntitySystemAndHowDoesItWork.md; masters as the swagger
// gives them: orders and positions by account, versions, commands and
// fills by order). Every answer that is a list is cut to Faults.ListCap
// entities, oldest first, with nothing to say so.

package venue

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// entity is what the list endpoints know of one entity: its id, the ids
// of its masters (for deps), and the value to serve.
type entity struct {
	id      int64
	masters []int64
	v       any
}

type lister func(s *store) []entity

func (v *Venue) listRoutes(get func(string, func(*http.Request, []byte) (int, any))) {
	types := map[string]lister{
		"order": func(s *store) []entity {
			out := make([]entity, 0, len(s.order))
			for _, id := range s.order {
				o := s.orders[id]
				out = append(out, entity{id, []int64{o.ord.AccountID}, o.ord})
			}
			return out
		},
		"orderVersion": func(s *store) []entity {
			out := make([]entity, 0, len(s.order))
			for _, id := range s.order {
				o := s.orders[id]
				out = append(out, entity{o.ver.ID, []int64{id}, o.ver})
			}
			return out
		},
		"command": func(s *store) []entity {
			out := make([]entity, 0, len(s.commands))
			for _, c := range s.commands {
				out = append(out, entity{c.ID, []int64{c.OrderID}, c})
			}
			return out
		},
		"fill": func(s *store) []entity {
			out := make([]entity, 0, len(s.fills))
			for _, f := range s.fills {
				out = append(out, entity{f.ID, []int64{f.OrderID}, f})
			}
			return out
		},
		"executionReport": func(s *store) []entity {
			out := make([]entity, 0, len(s.reports))
			for _, r := range s.reports {
				out = append(out, entity{r.ID, []int64{r.OrderID}, r})
			}
			return out
		},
		"position": func(s *store) []entity {
			var out []entity
			for _, a := range s.sortedAccounts() {
				if p := s.positions[a.Name]; p != nil {
					out = append(out, entity{p.ID, []int64{p.AccountID}, *p})
				}
			}
			return out
		},
		"account": func(s *store) []entity {
			var out []entity
			for _, a := range s.sortedAccounts() {
				out = append(out, entity{a.ID, []int64{a.UserID}, a})
			}
			return out
		},
		"accountRiskStatus": func(s *store) []entity {
			var out []entity
			for _, a := range s.sortedAccounts() {
				out = append(out, entity{a.ID, []int64{a.ID}, *s.risk[a.Name]})
			}
			return out
		},
		"userAccountAutoLiq": func(s *store) []entity {
			var out []entity
			for _, a := range s.sortedAccounts() {
				if al := s.autoLiq[a.Name]; al != nil {
					out = append(out, entity{a.ID, []int64{a.ID}, *al})
				}
			}
			return out
		},
	}
	for name, f := range types {
		get("/v1/"+name+"/list", v.listOf(f, "list"))
		get("/v1/"+name+"/deps", v.listOf(f, "deps"))
		get("/v1/"+name+"/ldeps", v.listOf(f, "ldeps"))
		get("/v1/"+name+"/items", v.listOf(f, "items"))
		get("/v1/"+name+"/item", v.listOf(f, "item"))
	}
	get("/v1/account/find", func(r *http.Request, _ []byte) (int, any) {
		v.mu.Lock()
		defer v.mu.Unlock()
		name := r.URL.Query().Get("name")
		for _, a := range v.st.sortedAccounts() {
			if a.Name == name {
				return http.StatusOK, a
			}
		}
		return http.StatusNotFound, map[string]string{"errorText": "account not found"}
	})
}

// ids parses a comma-separated id list (style form, explode false).
func ids(s string) (map[int64]bool, bool) {
	out := map[int64]bool{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, false
		}
		out[n] = true
	}
	return out, len(out) > 0
}

func (v *Venue) listOf(f lister, op string) func(*http.Request, []byte) (int, any) {
	return func(r *http.Request, _ []byte) (int, any) {
		q := r.URL.Query()
		var want map[int64]bool
		byMaster := false
		switch op {
		case "deps":
			var ok bool
			if want, ok = ids(q.Get("masterid")); !ok {
				return bad("masterid is required")
			}
			byMaster = true
		case "ldeps":
			var ok bool
			if want, ok = ids(q.Get("masterids")); !ok {
				return bad("masterids is required")
			}
			byMaster = true
		case "items":
			var ok bool
			if want, ok = ids(q.Get("ids")); !ok {
				return bad("ids is required")
			}
		case "item":
			var ok bool
			if want, ok = ids(q.Get("id")); !ok {
				return bad("id is required")
			}
		}
		v.mu.Lock()
		all := f(v.st)
		v.mu.Unlock()
		sort.SliceStable(all, func(i, j int) bool { return all[i].id < all[j].id })
		out := make([]any, 0, len(all))
		for _, e := range all {
			keep := want == nil
			if byMaster {
				for _, m := range e.masters {
					keep = keep || want[m]
				}
			} else if want != nil {
				keep = want[e.id]
			}
			if keep {
				out = append(out, e.v)
			}
		}
		if op == "item" {
			if len(out) == 0 {
				return http.StatusNotFound, map[string]string{"errorText": "not found"}
			}
			return http.StatusOK, out[0]
		}
		if n := v.cfg.Faults.ListCap; n > 0 && len(out) > n {
			out = out[:n]
			v.count(func(s *Stats) { s.CappedLists++ })
		}
		return http.StatusOK, out
	}
}
