import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import llm.Hub;
import llm.HubException;
import llm.ProgressBar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.FakeHub;
import support.RecordingListener;

/** Hub downloads against a fake Hub on 127.0.0.1: the cache layout, reuse, tokens, settings, progress. */
class HubTest {

    static final String REPO = "acme/tiny-gguf";
    static final String FILE = "tiny-q4.gguf";

    @TempDir Path cache;
    FakeHub server;
    Hub hub;
    byte[] content;
    String sha256;

    @BeforeEach
    void start() {
        server = FakeHub.start();
        content = new byte[300_000];
        new Random(42).nextBytes(content);
        sha256 = server.addLfs(REPO, FILE, content);
        hub = new Hub(cache, server.endpoint(), null, false)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .withRetries(0, Duration.ZERO, Duration.ZERO);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void freshDownloadLandsInTheHuggingFaceCacheLayout() throws Exception {
        RecordingListener listener = new RecordingListener();
        Path file = hub.download(REPO, FILE, "main", listener);

        Path repo = cache.resolve("models--acme--tiny-gguf");
        assertEquals(repo.resolve("snapshots").resolve(server.commit()).resolve(FILE), file);
        assertTrue(Files.isSymbolicLink(file), "snapshot entry is a symlink");
        assertEquals(Path.of("..", "..", "blobs", sha256), Files.readSymbolicLink(file), "relative, as huggingface_hub makes it");
        assertArrayEquals(content, Files.readAllBytes(repo.resolve("blobs").resolve(sha256)));
        assertEquals(server.commit(), Files.readString(repo.resolve("refs/main")), "refs/main holds the commit, no newline");
        try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
            assertEquals(List.of(sha256, sha256 + ".lock"), blobs.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no .incomplete left behind");
        }
        assertEquals(List.of("started 300000 0", "finished " + file), listener.events());
        assertEquals(300_000L, listener.progress.getLast());

        // The metadata comes from the Hub, the bytes from the CDN it redirects to.
        assertEquals(1, server.count("hub", "HEAD"));
        assertEquals(0, server.count("hub", "GET"));
        assertEquals(1, server.count("cdn", "GET"));
        assertEquals(2, server.requests().size());
    }

    @Test
    void secondCallUsesTheCacheWithoutAnyRequest() {
        Path first = hub.download(REPO, FILE, "main", null);
        server.clearRequests();
        RecordingListener listener = new RecordingListener();

        assertEquals(first, hub.download(REPO, FILE, "main", listener));
        assertEquals(Optional.of(first), hub.cached(REPO, FILE, "main"));
        assertEquals(Optional.of(first), hub.cached(REPO, FILE, server.commit()), "a commit works as a revision");
        assertEquals(first, hub.download(REPO, FILE, server.commit(), null));
        assertEquals(List.of(), server.requests());
        assertEquals(List.of(), listener.events(), "nothing to report when nothing is downloaded");
    }

    @Test
    void smallFilesComeFromTheHubItselfUnderTheirGitSha1() throws Exception {
        byte[] json = "{\"version\": \"1.0\"}".getBytes(StandardCharsets.UTF_8);
        String sha1 = server.addRegular(REPO, "tokenizer.json", json);
        Path file = hub.download(REPO, "tokenizer.json", null, null);

        assertEquals(40, sha1.length());
        assertEquals(Path.of("..", "..", "blobs", sha1), Files.readSymbolicLink(file));
        assertArrayEquals(json, Files.readAllBytes(file));
        assertEquals(1, server.count("hub", "HEAD"));
        assertEquals(1, server.count("hub", "GET"));
        assertEquals(0, server.count("cdn", "GET"));
    }

    @Test
    void filesInFoldersLinkFromDeeperInTheSnapshot() throws Exception {
        byte[] onnx = new byte[1000];
        new Random(7).nextBytes(onnx);
        String etag = server.addLfs(REPO, "onnx/model.onnx", onnx);
        Path file = hub.download(REPO, "onnx/model.onnx", "main", null);

        assertEquals(cache.resolve("models--acme--tiny-gguf/snapshots/" + server.commit() + "/onnx/model.onnx"), file);
        assertEquals(Path.of("..", "..", "..", "blobs", etag), Files.readSymbolicLink(file));
        assertArrayEquals(onnx, Files.readAllBytes(file));
    }

    @Test
    void theTokenGoesToTheHubButNotToTheCdn() {
        server.gate(REPO, "hf_secret");
        Hub withToken = new Hub(cache, server.endpoint(), "hf_secret", false);
        withToken.download(REPO, FILE, "main", null);

        for (FakeHub.Request r : server.requests()) {
            assertEquals(r.server().equals("hub") ? "Bearer hf_secret" : null, r.authorization(), r.toString());
        }
        assertEquals(2, server.requests().size());
    }

    @Test
    void aCacheWrittenByPythonIsUsedAsItIs() throws Exception {
        // The layout huggingface_hub writes, made by hand: no request may be needed to use it.
        String commit = "0123456789abcdef0123456789abcdef01234567";
        String etag = "a".repeat(64);
        Path repo = cache.resolve("models--someone--python-model");
        Files.createDirectories(repo.resolve("blobs"));
        Files.writeString(repo.resolve("blobs").resolve(etag), "weights");
        Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Path pointer = repo.resolve("snapshots").resolve(commit).resolve("model.gguf");
        Files.createSymbolicLink(pointer, Path.of("..", "..", "blobs", etag));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);

        assertEquals(Optional.of(pointer), hub.cached("someone/python-model", "model.gguf", "main"));
        assertEquals(pointer, hub.download("someone/python-model", "model.gguf", "main", null));
        assertEquals("weights", Files.readString(hub.download("someone/python-model", "model.gguf", null, null)));
        assertEquals(List.of(), server.requests());

        // A snapshot entry whose blob is gone is not a cached file.
        Files.delete(repo.resolve("blobs").resolve(etag));
        assertEquals(Optional.empty(), hub.cached("someone/python-model", "model.gguf", "main"));
        assertEquals(Optional.empty(), hub.cached("someone/python-model", "other.gguf", "main"));
        assertEquals(Optional.empty(), hub.cached("someone/unknown", "model.gguf", "main"));
    }

    @Test
    void settingsComeFromTheEnvironmentLikeHuggingfaceHub() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("HF_HOME", cache.resolve("hf").toString());
        Hub fromHome = Hub.fromEnvironment(env);
        assertEquals(cache.resolve("hf/hub"), fromHome.cacheDir());
        assertEquals(URI.create(Hub.DEFAULT_ENDPOINT), fromHome.endpoint()); // the Hub's own address, never contacted here
        assertFalse(fromHome.offline());

        env.put("HF_HUB_CACHE", cache.resolve("elsewhere").toString());
        env.put("HF_ENDPOINT", "https://hf-mirror.example/");
        env.put("HF_HUB_OFFLINE", "1");
        Hub configured = Hub.fromEnvironment(env);
        assertEquals(cache.resolve("elsewhere"), configured.cacheDir());
        assertEquals(URI.create("https://hf-mirror.example"), configured.endpoint(), "trailing slash dropped");
        assertTrue(configured.offline());
        for (String yes : List.of("1", "true", "YES", "on")) {
            assertTrue(Hub.fromEnvironment(Map.of("HF_HOME", "/x", "HF_HUB_OFFLINE", yes)).offline(), yes);
        }
        for (String no : List.of("0", "false", "", "no")) {
            assertFalse(Hub.fromEnvironment(Map.of("HF_HOME", "/x", "HF_HUB_OFFLINE", no)).offline(), no);
        }
        assertEquals(Path.of("/x/hub"), Hub.fromEnvironment(Map.of("HF_HOME", "/x")).cacheDir());
        assertEquals(Path.of("/xdg/huggingface/hub"), Hub.fromEnvironment(Map.of("XDG_CACHE_HOME", "/xdg")).cacheDir());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"), Hub.fromEnvironment(Map.of()).cacheDir());

        HubException bad = assertThrows(HubException.class, () -> Hub.fromEnvironment(Map.of("HF_HOME", "/x", "HF_HUB_DOWNLOAD_TIMEOUT", "soon")));
        assertEquals("HF_HUB_DOWNLOAD_TIMEOUT must be a number of seconds, got 'soon'", bad.getMessage());
    }

    @Test
    void theTokenComesFromHfTokenOrTheLoginFile() throws Exception {
        server.gate(REPO, "hf_from_env");
        Map<String, String> env = Map.of("HF_HOME", cache.resolve("a").toString(), "HF_ENDPOINT", server.endpoint().toString(),
                "HF_TOKEN", "hf_from_env");
        Hub.fromEnvironment(env).download(REPO, FILE, "main", null);
        assertEquals("Bearer hf_from_env", server.requests().getFirst().authorization());

        // `huggingface-cli login` writes $HF_HOME/token; huggingface_hub reads it when HF_TOKEN is unset.
        server.gate(REPO, "hf_from_file");
        server.clearRequests();
        Files.createDirectories(cache.resolve("b"));
        Files.writeString(cache.resolve("b/token"), "hf_from_file\n");
        Hub.fromEnvironment(Map.of("HF_HOME", cache.resolve("b").toString(), "HF_ENDPOINT", server.endpoint().toString()))
                .download(REPO, FILE, "main", null);
        assertEquals("Bearer hf_from_file", server.requests().getFirst().authorization());
    }

    @Test
    void namesThatCouldEscapeTheCacheAreRefused() {
        HubException repo = assertThrows(HubException.class, () -> hub.download("../etc", FILE, "main", null));
        assertEquals("Not a Hugging Face repo id: '../etc' (expected owner/name, e.g. microsoft/Phi-3-mini-4k-instruct-gguf)", repo.getMessage());
        HubException file = assertThrows(HubException.class, () -> hub.cached(REPO, "../../secret", "main"));
        assertEquals("Not a file name in a Hugging Face repo: '../../secret' (expected e.g. tokenizer.json or folder/file.bin)", file.getMessage());
        HubException rev = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "../main", null));
        assertEquals("Not a revision: '../main' (expected a branch, tag or commit, e.g. main)", rev.getMessage());
        assertThrows(HubException.class, () -> hub.download("a/b/c", FILE, "main", null));
        assertThrows(HubException.class, () -> hub.download(REPO, "/abs", "main", null));
        assertEquals(List.of(), server.requests());
    }

    @Test
    void resolveUrlsAreEncodedAsHuggingfaceHubDoes() {
        // URLs are only built here, nothing is fetched; an endpoint with a trailing slash, as users write it
        Hub local = new Hub(cache, URI.create("http://127.0.0.1:9/"), null, false);
        assertEquals("http://127.0.0.1:9/microsoft/Phi-3-mini-4k-instruct-gguf/resolve/main/Phi-3-mini-4k-instruct-q4.gguf",
                local.resolveUrl("microsoft/Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct-q4.gguf", null).toString());
        assertEquals("http://127.0.0.1:9/gpt2/resolve/refs%2Fpr%2F1/a%20b/c%2Bd.json",
                local.resolveUrl("gpt2", "a b/c+d.json", "refs/pr/1").toString());
    }

    @Test
    void aRefOtherThanMainIsStoredUnderRefs() throws Exception {
        Path file = hub.download(REPO, FILE, server.commit(), null);
        Path repo = cache.resolve("models--acme--tiny-gguf");
        assertFalse(Files.exists(repo.resolve("refs/main")), "a commit needs no ref");
        assertTrue(Files.isRegularFile(file));
        assertEquals(Optional.empty(), hub.cached(REPO, FILE, "main"), "main was never resolved");
        server.clearRequests();
        assertEquals(file, hub.download(REPO, FILE, "main", null));
        assertEquals(1, server.count("hub", "HEAD"), "one HEAD to learn main's commit");
        assertEquals(0, server.count("cdn", "GET"), "the bytes are already there");
        assertEquals(server.commit(), Files.readString(repo.resolve("refs/main")));
    }

    @Test
    void progressBarPrintsAFewPlainLinesWhenNotOnATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, clock);

        bar.started("microsoft/Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct-q4.gguf", 2_400_000_000L, 0);
        for (int second = 1; second <= 100; second++) {
            clock.seconds = second;
            bar.progress(second * 24_000_000L, 2_400_000_000L); // 24 MB/s
        }
        bar.finished(Path.of("/cache/model.gguf"));

        assertEquals("""
                Downloading microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-q4.gguf (2.40 GB)
                   25%  0.60/2.40 GB  24.0 MB/s  ETA 1m15s
                   50%  1.20/2.40 GB  24.0 MB/s  ETA 50s
                   75%  1.80/2.40 GB  24.0 MB/s  ETA 25s
                Downloaded 2.40 GB in 1m40s (24.0 MB/s): /cache/model.gguf
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void progressBarTellsAboutResumesRetriesAndUnknownSizes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, clock);

        bar.started("acme/m", "f.bin", 8_000_000L, 3_000_000L);
        bar.retrying(1, "cdn.example answered HTTP 503", Duration.ofSeconds(2));
        clock.seconds = 5;
        bar.progress(8_000_000L, 8_000_000L);
        bar.finished(Path.of("f.bin"));
        bar.started("acme/m", "g.bin", -1, 0);
        bar.finished(Path.of("g.bin"));
        bar.finished(Path.of("again.bin")); // no second "Downloaded" for a file nobody downloaded

        assertEquals("""
                Downloading acme/m/f.bin (8.0 MB, resuming at 3.0 MB)
                  retry 1 in 2s: cdn.example answered HTTP 503
                Downloaded 8.0 MB in 5s (1.0 MB/s): f.bin
                Downloading acme/m/g.bin (size unknown)
                Downloaded 0 B in 0s: g.bin
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void progressBarRedrawsOneLineOnATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, clock);

        bar.started("acme/m", "f.bin", 4_000_000L, 0);
        clock.seconds = 1;
        bar.progress(1_000_000L, 4_000_000L);
        bar.progress(1_500_000L, 4_000_000L); // within 0.2 s of the last redraw: skipped
        clock.seconds = 4;
        bar.progress(4_000_000L, 4_000_000L);
        bar.finished(Path.of("f.bin"));

        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals("""
                Downloading acme/m/f.bin (4.0 MB)
                \r[..............................]    0%  0.0/4.0 MB\
                \r[#######.......................]   25%  1.0/4.0 MB  1.0 MB/s  ETA 3s\
                \r[##############################]  100%  4.0/4.0 MB  1.0 MB/s        \
                \r[##############################]  100%  4.0/4.0 MB  1.0 MB/s
                Downloaded 4.0 MB in 4s (1.0 MB/s): f.bin
                """, out);
    }

    /** A clock the test moves by hand, so speeds and ETAs are exact. */
    static final class FakeClock implements InstantSource {
        long seconds;

        @Override public Instant instant() {
            return Instant.ofEpochSecond(1_000_000 + seconds);
        }
    }
}
