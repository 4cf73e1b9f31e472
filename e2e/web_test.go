package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "datarobot-license-exporter test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

const webPassword = "web-pass-7c1e-not-in-any-output"

// webConfig writes an exporter-toolkit web config with TLS and one
// basic-auth user, admin, whose password is stored as a bcrypt hash.
func webConfig(t *testing.T, dir string) (string, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(webPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web-config.yml")
	writeFile(t, path, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  admin: %s\n", certFile, keyFile, hash))
	return path, pool
}

// TestWebConfigTLSAndBasicAuth serves the exporter over TLS with basic
// auth: no or wrong credentials get 401, plain HTTP gets nothing useful.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	api := httptest.NewServer(fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(48*time.Hour), 3)))
	t.Cleanup(api.Close)
	web, pool := webConfig(t, dir)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start(t, "exporter", []string{"DATAROBOT_API_TOKEN=" + token}, buildExporter(t),
		"--datarobot.url="+api.URL, "--web.listen-address="+addr, "--web.config.file="+web)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(user, pass string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, "the exporter over TLS", 20*time.Second, func() bool { code, _ := do("admin", webPassword); return code == 200 })
	if code, body := do("admin", webPassword); code != 200 || !strings.Contains(body, "datarobot_up 1") {
		t.Errorf("with the password: %d", code)
	}
	for _, c := range [][2]string{{"", ""}, {"admin", "wrong"}, {"root", webPassword}} {
		if code, _ := do(c[0], c[1]); code != 401 {
			t.Errorf("user %q password %q: %d, want 401", c[0], c[1], code)
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(b), "datarobot_") {
			t.Errorf("plain HTTP to the TLS port: %d %q", resp.StatusCode, b)
		}
	}
	untrusting := &http.Client{Timeout: 5 * time.Second}
	if _, err := untrusting.Get("https://" + addr + "/metrics"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the certificate: %v", err)
	}
}

// TestSlowClientsAndShutdown opens 200 connections that never finish their
// headers: scrapes still answer, the server drops the slow connections after
// its ReadHeaderTimeout, and SIGTERM then ends the exporter cleanly.
func TestSlowClientsAndShutdown(t *testing.T) {
	api := httptest.NewServer(fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(48*time.Hour), 3)))
	t.Cleanup(api.Close)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	exp := start(t, "exporter", []string{"DATAROBOT_API_TOKEN=" + token}, buildExporter(t),
		"--datarobot.url="+api.URL, "--web.listen-address="+addr)
	waitFor(t, "the exporter", 20*time.Second, func() bool {
		_, code, err := get("http://" + addr + "/-/healthy")
		return err == nil && code == 200
	})
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	body, code, err := get("http://" + addr + "/metrics")
	if err != nil || code != 200 || !strings.Contains(string(body), "datarobot_up 1") {
		t.Fatalf("scrape beside 200 slow connections: %d %v", code, err)
	}
	t.Logf("scrape beside 200 slow connections took %s", time.Since(start))

	// The server closes a slow connection once its headers are overdue.
	c := conns[0]
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	began := time.Now()
	_, err = bufio.NewReader(c).ReadByte()
	if err == nil || time.Since(began) > 15*time.Second {
		t.Errorf("slow connection: read %v after %s, want it closed within the header timeout", err, time.Since(began))
	}

	if err := exp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exp.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the exporter did not stop within 15 s of SIGTERM")
	}
	var ee *exec.ExitError
	if exp.err != nil && !(errors.As(exp.err, &ee) && ee.ExitCode() == 0) {
		t.Errorf("exit after SIGTERM: %v", exp.err)
	}
	if !strings.Contains(exp.log(), "Shutting down") {
		t.Errorf("the log does not say it shut down:\n%s", exp.log())
	}
}
