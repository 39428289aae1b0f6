package audit

import (
	"runtime"
	"testing"
)

// BenchmarkWrite measures Write throughput with 64 concurrent writers, each Write returning
// once its record is durable, in three modes: group commit (one write and fsync per batch),
// one fsync per record (batches of 1), and no fsync at all (the ceiling). It logs the ratios
// measured in the same run.
func BenchmarkWrite(b *testing.B) {
	modes := []struct {
		name string
		tune func(*Options)
	}{
		{"group_commit", func(*Options) {}},
		{"fsync_per_record", func(o *Options) { o.MaxBatch = 1 }},
		{"no_fsync", func(o *Options) { o.NoSync = true }},
	}
	rate := map[string]float64{}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			opts := testOptions(b.TempDir())
			opts.CheckpointEvery = DefaultCheckpointEvery
			opts.MaxBytes = DefaultMaxBytes
			m.tune(&opts)
			w := open(b, opts)
			rec := sample(1)
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.Write(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			closeWriter(b, w)
			rate[m.name] = float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate[m.name], "records/s")
		})
	}
	if rate["fsync_per_record"] > 0 && rate["no_fsync"] > 0 {
		b.Logf("group commit: %.0f records/s, %.1fx fsync per record (%.0f/s), %.2fx no fsync (%.0f/s)",
			rate["group_commit"], rate["group_commit"]/rate["fsync_per_record"], rate["fsync_per_record"],
			rate["group_commit"]/rate["no_fsync"], rate["no_fsync"])
	}
}

// BenchmarkVerify measures how fast Verify checks a log, in records per second.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	opts := testOptions(dir)
	opts.CheckpointEvery = DefaultCheckpointEvery
	opts.NoSync = true
	w := open(b, opts)
	const n = 100_000
	appendParallel(b, w, n)
	closeWriter(b, w)
	key := publicKey(b, dir)
	b.ResetTimer()
	for b.Loop() {
		mustVerify(b, key, opts.Path)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
