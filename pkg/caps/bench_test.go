package caps

import "testing"

func BenchmarkParseAttenuate(b *testing.B) {
	cases := map[string]string{
		"CHK":       "URI:CHK:tbqpxhocvbmnqeuzfmysshgohe:7k5s63ft5uv6ov2nebskdso3tuifyd5vv54gjasj3yn4viqa6iqa:3:10:86319377",
		"SSK":       "URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda",
		"DIR2-MDMF": "URI:DIR2-MDMF:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda",
	}
	for name, s := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := Parse(s)
				if err != nil {
					b.Fatal(err)
				}
				v, err := c.Attenuate(LevelVerify)
				if err != nil {
					b.Fatal(err)
				}
				_ = v.String()
			}
		})
	}
}
