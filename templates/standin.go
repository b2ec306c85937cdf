package templates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The stand-in service is compiled on the host for Java 7, the article's
// JDK (jdk-7u60): class files of version 51 run on every JVM from 7 on.
const (
	StandInRelease      = 7
	StandInClassVersion = 51
)

// javac's --release came with JDK 9; JDK 20 dropped release 7.
const minJavacFor7, maxJavacFor7 = 9, 19

// StandInSourceSHA is the sha256 of Stratos.java, which names a compiled
// copy of it.
func StandInSourceSHA() string {
	sum := sha256.Sum256(serviceJava)
	return hex.EncodeToString(sum[:])
}

var javacVersionRe = regexp.MustCompile(`javac (\d+)(?:\.(\d+))?`)

// javacMajor reads `javac -version` ("javac 17.0.15", "javac 1.8.0_392").
func javacMajor(out string) (int, bool) {
	m := javacVersionRe.FindStringSubmatch(out)
	if m == nil {
		return 0, false
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major, true
}

// FindJavac7 finds a javac on this machine that compiles for Java 7 (JDK 9
// to 19): $JAVA_HOME's, the one on PATH, then those under /usr/lib/jvm.
func FindJavac7(ctx context.Context) (string, error) {
	var cands []string
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		cands = append(cands, filepath.Join(jh, "bin", "javac"))
	}
	if p, err := exec.LookPath("javac"); err == nil {
		cands = append(cands, p)
	}
	more, _ := filepath.Glob("/usr/lib/jvm/*/bin/javac")
	sort.Strings(more)
	cands = append(cands, more...)
	var seen []string
	for _, c := range cands {
		out, err := exec.CommandContext(ctx, c, "-version").CombinedOutput()
		if err != nil {
			continue
		}
		major, ok := javacMajor(string(out))
		if !ok {
			continue
		}
		if major >= minJavacFor7 && major <= maxJavacFor7 {
			return c, nil
		}
		seen = append(seen, fmt.Sprintf("%s (JDK %d)", c, major))
	}
	why := "no javac found"
	if len(seen) > 0 {
		why = "found only " + strings.Join(seen, ", ")
	}
	return "", fmt.Errorf("no javac on this machine compiles for Java 7 (JDK %d to %d do; %s): apt-get install openjdk-17-jdk-headless, or set JAVA_HOME to such a JDK",
		minJavacFor7, maxJavacFor7, why)
}

// CompileStandIn compiles Stratos.java with javac for Java 7 into dir
// (made if needed) and returns its class files, name to content. Each is
// checked to be class file version 51.
func CompileStandIn(ctx context.Context, javac, dir string) (map[string][]byte, error) {
	src := filepath.Join(dir, "src")
	out := filepath.Join(dir, "classes")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, err
	}
	os.RemoveAll(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(src, "Stratos.java")
	if err := os.WriteFile(file, serviceJava, 0o644); err != nil {
		return nil, err
	}
	// javac's own JVM: one small compile, so no optimising JIT
	cmd := exec.CommandContext(ctx, javac, "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
		"--release", strconv.Itoa(StandInRelease), "-Xlint:all", "-Xlint:-options", "-Werror",
		"-encoding", "UTF-8", "-d", out, file)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compiling the stand-in service for Java %d (%s): %v: %s", StandInRelease, javac, err, bytes.TrimSpace(b))
	}
	return ReadStandInClasses(out)
}

// ReadStandInClasses reads the class files of a compiled stand-in,
// refusing any that is not class file version 51 (Java 7).
func ReadStandInClasses(dir string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.class"))
	if err != nil {
		return nil, err
	}
	classes := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		v, err := ClassFileVersion(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if v != StandInClassVersion {
			return nil, fmt.Errorf("%s: class file version %d, want %d (Java %d)", n, v, StandInClassVersion, StandInRelease)
		}
		classes[filepath.Base(n)] = b
	}
	if _, ok := classes["Stratos.class"]; !ok {
		return nil, fmt.Errorf("%s: no Stratos.class", dir)
	}
	return classes, nil
}

// ClassFileVersion reads a class file's major version (51 is Java 7).
func ClassFileVersion(b []byte) (int, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte{0xca, 0xfe, 0xba, 0xbe}) {
		return 0, errors.New("not a class file")
	}
	return int(b[6])<<8 | int(b[7]), nil
}
