package redisadapter

import "testing"

func TestParseSwitchMaster(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		payload, master, want string
		ok                    bool
	}{
		{"mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster", "127.0.0.1:6380", true},
		{"mymaster ::1 6379 ::1 6380", "mymaster", "[::1]:6380", true},
		{"other 127.0.0.1 6379 127.0.0.1 6380", "mymaster", "", false},
		{"mymaster 127.0.0.1 6379", "mymaster", "", false},
		{"", "mymaster", "", false},
	} {
		got, ok := parseSwitchMaster(tc.payload, tc.master)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSwitchMaster(%q, %q) = %q, %v; want %q, %v", tc.payload, tc.master, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSentinelURLOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url       string
		master    string
		sentinels int
		password  string
	}{
		{"redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster", "mymaster", 2, ""},
		{"redis-sentinel://:pw@h1:26379/mymaster/2", "mymaster", 1, "pw"},
		{"redis://h1:26379?master_name=m", "m", 1, ""},
		{"redis://127.0.0.1:6379", "", 0, ""},
		{"redis-sentinel://h1:26379", "", 0, ""}, // no master name: not watched (NewClient fails)
		{"redis://a:1,b:2", "", 0, ""},
	} {
		opt := sentinelURLOptions(tc.url)
		if tc.master == "" {
			if opt != nil {
				t.Errorf("%s: got options for %q, want none", tc.url, opt.MasterName)
			}
			continue
		}
		if opt == nil {
			t.Errorf("%s: no options", tc.url)
			continue
		}
		if opt.MasterName != tc.master || len(opt.SentinelAddrs) != tc.sentinels || opt.SentinelPassword != tc.password {
			t.Errorf("%s: master %q, %d sentinels, sentinel password %q; want %q, %d, %q", tc.url,
				opt.MasterName, len(opt.SentinelAddrs), opt.SentinelPassword, tc.master, tc.sentinels, tc.password)
		}
	}
}
