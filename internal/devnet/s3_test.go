package devnet_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// resticThroughDevnetS3 backs a small tree up with restic through the devnet's S3
// gateway (its printed line: URL and credentials) and restores it byte for byte: the
// gateway's own faucet-funded wallet pays, the storage nodes hold the data. Skipped if
// restic is not installed (.ci/run installs it).
func resticThroughDevnetS3(t *testing.T, line, work string) {
	t.Helper()
	m := regexp.MustCompile(`^(http://\S+) \(access key (\S+), secret key (\S+), region (\S+)\)$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("devnet printed no S3 gateway line (got %q)", line)
	}
	if _, err := exec.LookPath("restic"); err != nil {
		t.Log("restic is not installed: the devnet's S3 gateway is not exercised")
		return
	}
	src, back := filepath.Join(work, "s3src"), filepath.Join(work, "s3back")
	data := make([]byte, 300<<10)
	rand.Read(data)
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "a.bin"), data, 0o644)
	os.WriteFile(filepath.Join(src, "b.txt"), []byte("hello through S3\n"), 0o644)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "AWS_ACCESS_KEY_ID=" + m[2], "AWS_SECRET_ACCESS_KEY=" + m[3],
		"AWS_DEFAULT_REGION=" + m[4], "RESTIC_PASSWORD=devnet", "RESTIC_REPOSITORY=s3:" + m[1] + "/devnet-restic",
		"RESTIC_CACHE_DIR=" + filepath.Join(work, "restic-cache")}
	for _, args := range [][]string{{"init"}, {"backup", src}, {"restore", "latest", "--target", back}} {
		cmd := exec.Command("restic", args...)
		cmd.Dir, cmd.Env = src, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("restic %s through the devnet's S3 gateway: %v\n%s", args[0], err, out)
		}
	}
	for _, f := range []string{"sub/a.bin", "b.txt"} {
		a, _ := os.ReadFile(filepath.Join(src, f))
		b, err := os.ReadFile(filepath.Join(back, src, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("restic restore through the devnet's S3 gateway: %s differs (%v)", f, err)
		}
	}
}
