import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import llm.Hub;
import llm.HubException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import support.FakeHub;
import support.HubProcess;
import support.RecordingListener;

/**
 * Downloads under faults (issue 7, item 3), against a fake Hub on 127.0.0.1. After every fault
 * the cache must hold nothing for the file, an .incomplete that a later run resumes, or the
 * complete verified file: never something a later run would trust that is wrong.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class HubFaultsTest {

    static final String REPO = "acme/tiny-gguf";
    static final String FILE = "tiny-q4.gguf";
    static final int SIZE = 300_000;

    @TempDir Path cache;
    FakeHub server;
    Hub hub;
    byte[] content;
    String sha256;
    Path blobs;
    Path incomplete;

    @BeforeEach
    void start() {
        server = FakeHub.start();
        content = new byte[SIZE];
        new Random(42).nextBytes(content);
        sha256 = server.addLfs(REPO, FILE, content);
        hub = new Hub(cache, server.endpoint(), null, false)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .withRetries(0, Duration.ZERO, Duration.ZERO);
        blobs = cache.resolve("models--acme--tiny-gguf/blobs");
        incomplete = blobs.resolve(sha256 + ".incomplete");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    // --- broken transfers are resumed ----------------------------------------------------------

    @Test
    void aTransferCutHalfwayIsResumedByTheNextCallWithARangeRequest() throws Exception {
        server.cutNextBodyAfter(150_000);
        HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertTrue(e.getMessage().startsWith("Download of acme/tiny-gguf/tiny-q4.gguf failed: the connection to 127.0.0.1 broke after 150000 bytes"), e.getMessage());
        assertTrue(e.getMessage().endsWith("; the 150000 bytes so far are kept and the next run resumes"), e.getMessage());
        assertEquals(150_000, Files.size(incomplete));
        assertUntrusted();

        server.clearRequests();
        RecordingListener listener = new RecordingListener();
        Path file = hub.download(REPO, FILE, "main", listener);
        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(List.of("bytes=150000-"), cdnRanges());
        assertEquals("started 300000 150000", listener.events().getFirst());
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void withRetriesACutTransferResumesWithinTheSameCall() throws Exception {
        server.cutNextBodyAfter(100_000);
        RecordingListener listener = new RecordingListener();
        Path file = hub.withRetries(2, Duration.ofMillis(10), Duration.ofMillis(10)).download(REPO, FILE, "main", listener);

        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(Arrays.asList(null, "bytes=100000-"), cdnRanges());
        List<String> events = listener.events();
        assertEquals(3, events.size(), events.toString());
        assertEquals("started 300000 0", events.get(0));
        assertTrue(events.get(1).startsWith("retrying 1 10 the connection to 127.0.0.1 broke after 100000 bytes"), events.get(1));
        assertEquals("finished " + file, events.get(2));
    }

    @Test
    void fewerBytesThanAnnouncedAreKeptButNotTrusted() throws Exception {
        server.shortNextBody(100_000); // ends cleanly, but the Hub said X-Linked-Size: 300000
        HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertEquals("Download of acme/tiny-gguf/tiny-q4.gguf failed: the server sent fewer bytes than announced (100000 of 300000);"
                + " the 100000 bytes so far are kept and the next run resumes", e.getMessage());
        assertEquals(100_000, Files.size(incomplete));
        assertUntrusted();

        server.clearRequests();
        assertArrayEquals(content, Files.readAllBytes(hub.download(REPO, FILE, "main", null)));
        assertEquals(List.of("bytes=100000-"), cdnRanges());
    }

    @Test
    void aServerThatIgnoresTheRangeSendsTheWholeFileAgain() throws Exception {
        Files.createDirectories(blobs);
        Files.write(incomplete, Arrays.copyOf(content, 100_000));
        server.ignoreRanges(true);
        RecordingListener listener = new RecordingListener();
        Path file = hub.download(REPO, FILE, "main", listener);

        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(List.of("bytes=100000-"), cdnRanges(), "asked to resume, got 200 and the whole file");
        assertEquals(SIZE, listener.progress.getLast());
    }

    @Test
    void aCompleteIncompleteFileIsVerifiedAndUsedWithoutDownloading() throws Exception {
        Files.createDirectories(blobs);
        Files.write(incomplete, content); // a run that stopped between the last byte and the rename
        Path file = hub.download(REPO, FILE, "main", null);
        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(0, server.count("cdn", "GET"));
    }

    // --- wrong bytes are refused ---------------------------------------------------------------

    @Test
    void aBodyWhoseSha256DiffersIsRefusedAndNothingTrustedIsLeft() throws Exception {
        server.corruptBodies(true);
        byte[] corrupted = content.clone();
        corrupted[SIZE / 2] ^= 0x5a; // what FakeHub changes
        String wrong = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(corrupted));

        HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertEquals("The download of acme/tiny-gguf/tiny-q4.gguf does not match the sha256 the Hub announced (expected " + sha256
                + ", got " + wrong + "); it was deleted, run again to download it anew", e.getMessage());
        assertFalse(Files.exists(incomplete));
        assertUntrusted();

        server.corruptBodies(false);
        assertArrayEquals(content, Files.readAllBytes(hub.download(REPO, FILE, "main", null)));
    }

    @Test
    void aResumedPrefixThatIsWrongIsCaughtByTheSha256() throws Exception {
        Files.createDirectories(blobs);
        Files.write(incomplete, new byte[100_000]); // zeros: not the file's first bytes
        HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertTrue(e.getMessage().contains("does not match the sha256 the Hub announced"), e.getMessage());
        assertEquals(List.of("bytes=100000-"), cdnRanges());
        assertFalse(Files.exists(incomplete));
        assertUntrusted();

        server.clearRequests();
        assertArrayEquals(content, Files.readAllBytes(hub.download(REPO, FILE, "main", null)));
        assertEquals(Arrays.asList((String) null), cdnRanges(), "started over from the first byte");
    }

    // --- offline -------------------------------------------------------------------------------

    @Test
    void offlineUsesTheCacheOnlyAndSaysWhatIsMissing() {
        Path file = hub.download(REPO, FILE, "main", null);
        server.clearRequests();
        Hub offline = new Hub(cache, server.endpoint(), null, true);

        assertEquals(file, offline.download(REPO, FILE, "main", null));
        HubException e = assertThrows(HubException.class, () -> offline.download(REPO, "other.gguf", "main", null));
        assertEquals("acme/tiny-gguf/other.gguf is not in the Hugging Face cache " + cache + " and HF_HUB_OFFLINE=1 forbids downloading it:"
                + " unset HF_HUB_OFFLINE to fetch " + server.endpoint() + "/acme/tiny-gguf/resolve/main/other.gguf, or copy a cache"
                + " that has it (e.g. made with `hf download acme/tiny-gguf other.gguf`) there", e.getMessage());
        assertEquals(List.of(), server.requests());
    }

    @Test
    void anUnreachableHubSaysWhatToDownloadAndWhere() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }
        Hub nowhere = new Hub(cache, URI.create("http://127.0.0.1:" + closedPort), null, false);
        HubException e = assertThrows(HubException.class, () -> nowhere.download(REPO, FILE, "main", null));
        assertTrue(e.getMessage().startsWith("Cannot reach 127.0.0.1 ("), e.getMessage());
        assertTrue(e.getMessage().endsWith(") and acme/tiny-gguf/tiny-q4.gguf is not in the Hugging Face cache " + cache
                + ": connect to the internet and run again, or copy a cache that has it there"
                + " (e.g. made with `hf download acme/tiny-gguf tiny-q4.gguf`)"), e.getMessage());
    }

    // --- what the Hub refuses ------------------------------------------------------------------

    @Test
    void aGatedModelWithoutATokenSaysToSetHfTokenAndAcceptTheLicence() throws IOException {
        server.gate(REPO, "hf_right");
        String page = server.endpoint() + "/acme/tiny-gguf";
        HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertEquals("acme/tiny-gguf is a gated model: create a token at " + server.endpoint() + "/settings/tokens, set HF_TOKEN to it,"
                + " and accept the licence on " + page + " (HTTP 401)", e.getMessage());

        Hub wrongToken = new Hub(cache, server.endpoint(), "hf_wrong", false);
        HubException f = assertThrows(HubException.class, () -> wrongToken.download(REPO, FILE, "main", null));
        assertEquals("Your HF_TOKEN has no access to acme/tiny-gguf: accept the licence on " + page
                + " with the account of that token, and check the token (HTTP 403)", f.getMessage());
        assertCacheEmpty();
    }

    @Test
    void aMissingRepoFileOrRevisionIsNamed() throws IOException {
        String endpoint = server.endpoint().toString();
        HubException repo = assertThrows(HubException.class, () -> hub.download("acme/nothing", FILE, "main", null));
        assertEquals("acme/nothing was not found on " + endpoint + ", or it is private or gated: check the name,"
                + " or set HF_TOKEN and accept the licence on " + endpoint + "/acme/nothing (HTTP 401)", repo.getMessage());

        HubException file = assertThrows(HubException.class, () -> hub.download(REPO, "missing.gguf", "main", null));
        assertEquals("missing.gguf not found in acme/tiny-gguf at revision 'main' (" + endpoint
                + "/acme/tiny-gguf/resolve/main/missing.gguf, HTTP 404)", file.getMessage());

        HubException revision = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "v9", null));
        assertEquals("Revision 'v9' not found in acme/tiny-gguf (HTTP 404)", revision.getMessage());
        assertCacheEmpty();
    }

    @Test
    void serverErrorsAreRetriedWithGrowingWaits() throws Exception {
        server.failNext(503, 2);
        RecordingListener listener = new RecordingListener();
        Path file = hub.withRetries(3, Duration.ofMillis(10), Duration.ofMillis(1000)).download(REPO, FILE, "main", listener);

        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(List.of("retrying 1 10 127.0.0.1 answered HTTP 503", "retrying 2 20 127.0.0.1 answered HTTP 503",
                "started 300000 0", "finished " + file), listener.events());
        assertEquals(3, server.count("hub", "HEAD"));
    }

    @Test
    void serverErrorsThatDoNotStopGiveUpAfterTheRetries() throws IOException {
        server.failNext(500, 10);
        HubException e = assertThrows(HubException.class,
                () -> hub.withRetries(2, Duration.ofMillis(1), Duration.ofMillis(1)).download(REPO, FILE, "main", null));
        assertEquals("Download of acme/tiny-gguf/tiny-q4.gguf failed: 127.0.0.1 answered HTTP 500 (gave up after 3 attempts)", e.getMessage());
        assertEquals(3, server.requests().size());
        assertCacheEmpty();
    }

    @Test
    void aServerThatDoesNotSpeakTheHubProtocolIsNotTrusted() throws Exception {
        server.overrideHeader("X-Repo-Commit", "");
        HubException noCommit = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertEquals(server.endpoint() + "/acme/tiny-gguf/resolve/main/tiny-q4.gguf did not answer like the Hugging Face Hub"
                + " (no valid X-Repo-Commit header): check HF_ENDPOINT", noCommit.getMessage());

        server.overrideHeader("X-Repo-Commit", "../../../../tmp");
        assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));

        server.overrideHeader("X-Repo-Commit", server.commit());
        server.overrideHeader("X-Linked-Etag", "\"../../escape\"");
        HubException badEtag = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
        assertEquals(server.endpoint() + "/acme/tiny-gguf/resolve/main/tiny-q4.gguf sent no usable ETag,"
                + " so the download could not be verified or cached", badEtag.getMessage());
        assertCacheEmpty();

        // A size that is not a number is no size: the transfer runs to the end and the sha256 still decides.
        server.overrideHeader("X-Linked-Etag", "\"" + sha256 + "\"");
        server.overrideHeader("X-Linked-Size", "lots");
        RecordingListener listener = new RecordingListener();
        Path file = hub.download(REPO, FILE, "main", listener);
        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals("started -1 0", listener.events().getFirst(), "size unknown");
    }

    // --- slow and stalled servers --------------------------------------------------------------

    @Test
    void aSlowServerKeepsProgressMovingPastTheReadTimeout() throws Exception {
        server.slow(10_000, 25); // 30 pieces, 25 ms apart: ~0.75 s in all, never 0.5 s without a byte
        RecordingListener listener = new RecordingListener();
        long t0 = System.nanoTime();
        Path file = hub.withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(500)).download(REPO, FILE, "main", listener);
        long millis = (System.nanoTime() - t0) / 1_000_000;

        assertArrayEquals(content, Files.readAllBytes(file));
        assertTrue(millis > 500, "the whole transfer took longer than the read timeout: " + millis + " ms");
        List<Long> progress = listener.progress;
        assertTrue(progress.size() >= 10, "progress reported piece by piece: " + progress.size());
        for (int i = 1; i < progress.size(); i++) assertTrue(progress.get(i) > progress.get(i - 1), progress.toString());
    }

    @Test
    void aStallTimesOutAndKeepsWhatCameForResuming() throws Exception {
        server.stallNextBodyAfter(100_000);
        Hub impatient = hub.withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(300));
        long t0 = System.nanoTime();
        HubException e = assertThrows(HubException.class, () -> impatient.download(REPO, FILE, "main", null));
        long millis = (System.nanoTime() - t0) / 1_000_000;

        assertEquals("Download of acme/tiny-gguf/tiny-q4.gguf failed: no data from 127.0.0.1 for 0.3 s;"
                + " the 100000 bytes so far are kept and the next run resumes", e.getMessage());
        assertTrue(millis < 1500, "gave up soon after the read timeout: " + millis + " ms");
        assertEquals(100_000, Files.size(incomplete));
        assertUntrusted();

        server.clearRequests();
        assertArrayEquals(content, Files.readAllBytes(impatient.download(REPO, FILE, "main", null)));
        assertEquals(List.of("bytes=100000-"), cdnRanges());
    }

    @Test
    void anInterruptedDownloadKeepsItsBytesAndSaysSo() throws Exception {
        server.slow(10_000, 30);
        RecordingListener listener = new RecordingListener();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                hub.download(REPO, FILE, "main", listener);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        waitUntil(() -> Files.exists(incomplete) && size(incomplete) >= 30_000);
        t.interrupt();
        t.join(5000);

        assertFalse(t.isAlive());
        assertTrue(failure.get() instanceof HubException, String.valueOf(failure.get()));
        String message = failure.get().getMessage();
        assertTrue(message.startsWith("The download of acme/tiny-gguf/tiny-q4.gguf was interrupted; the "), message);
        assertTrue(message.endsWith(" so far are kept in " + incomplete + " and resumed next time"), message);
        long kept = Files.size(incomplete);
        assertTrue(kept >= 30_000 && kept < SIZE, "kept " + kept);
        assertUntrusted();
    }

    // --- several downloaders -------------------------------------------------------------------

    @Test
    void twoThreadsFetchingTheSameFileDownloadItOnce() throws Exception {
        server.slow(10_000, 30); // ~0.9 s of body: the second thread arrives while the first downloads
        CountDownLatch go = new CountDownLatch(1);
        List<RecordingListener> listeners = List.of(new RecordingListener(), new RecordingListener());
        List<Path> results = new ArrayList<>(List.of(Path.of("none"), Path.of("none")));
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            int n = i;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    results.set(n, hub.download(REPO, FILE, "main", listeners.get(n)));
                } catch (Exception e) {
                    results.set(n, Path.of("failed: " + e.getMessage()));
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) t.join(10_000);

        assertEquals(results.get(0), results.get(1));
        assertArrayEquals(content, Files.readAllBytes(results.get(0)));
        assertEquals(1, server.count("cdn", "GET"), "one body transfer");
        assertEquals(2, server.count("hub", "HEAD"));
        assertEquals(1, listeners.get(0).count("waiting") + listeners.get(1).count("waiting"), "the other one waited");
        assertEquals(1, listeners.get(0).count("started") + listeners.get(1).count("started"));
    }

    @Test
    void twoProcessesFetchingTheSameFileDownloadItOnce() throws Exception {
        server.slow(10_000, 25); // ~0.75 s of body: this JVM is warm, its HEAD comes in well before the end
        Process other = HubProcess.start(cache, server.endpoint(), REPO, FILE);
        try {
            waitUntil(() -> server.count("cdn", "GET") == 1); // the other process is downloading
            RecordingListener listener = new RecordingListener();
            Path file = hub.download(REPO, FILE, "main", listener);

            assertTrue(other.waitFor(10, TimeUnit.SECONDS));
            String output = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals("started\ndone " + file + "\n", output.replace("\r\n", "\n"));
            assertEquals(List.of("waiting", "finished " + file), listener.events(), "this one waited for the file lock");
            assertArrayEquals(content, Files.readAllBytes(file));
            assertEquals(1, server.count("cdn", "GET"), "one body transfer");
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void aProcessStoppedBySigintLeavesAnIncompleteThatTheNextRunResumes() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/kill")) || Files.isExecutable(Path.of("/usr/bin/kill")), "needs kill(1)");
        server.slow(10_000, 100); // ~3 s of body: on a busy machine, starting kill(1) took long enough for 0.75 s to finish
        Process other = HubProcess.start(cache, server.endpoint(), REPO, FILE);
        try {
            waitUntil(() -> Files.exists(incomplete) && size(incomplete) >= 30_000);
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(other.pid())).start().waitFor());
            assertTrue(other.waitFor(10, TimeUnit.SECONDS));
            assertTrue(other.exitValue() != 0, "stopped, not finished");
        } finally {
            other.destroyForcibly();
        }
        long kept = Files.size(incomplete);
        assertTrue(kept >= 30_000 && kept < SIZE, "kept " + kept);
        assertUntrusted();

        server.slow(0, 0);
        server.clearRequests();
        Path file = hub.download(REPO, FILE, "main", null);
        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(List.of("bytes=" + kept + "-"), cdnRanges());
    }

    // --- the disk ------------------------------------------------------------------------------

    @Test
    void aFullDiskIsReportedClearlyAndNothingIsTrusted() throws Exception {
        Path full = Path.of("/dev/full"); // every write fails with ENOSPC, as on a full disk
        assumeTrue(Files.exists(full), "needs /dev/full (Linux)");
        Files.createDirectories(blobs);
        Files.createSymbolicLink(incomplete, full);
        try {
            HubException e = assertThrows(HubException.class, () -> hub.download(REPO, FILE, "main", null));
            assertEquals("Cannot write " + incomplete + " (No space left on device): free some disk space or set HF_HOME to a folder"
                    + " on a larger disk, then run again", e.getMessage());
            assertUntrusted();
        } finally {
            Files.delete(incomplete); // the link, not /dev/full
        }
    }

    // --- helpers -------------------------------------------------------------------------------

    /** No blob, no snapshot entry, no ref: nothing a later run would take for the file. */
    void assertUntrusted() throws IOException {
        assertEquals(Optional.empty(), hub.cached(REPO, FILE, "main"));
        assertEquals(Optional.empty(), hub.cached(REPO, FILE, server.commit()));
        assertFalse(Files.exists(blobs.resolve(sha256)), "no blob");
        Path repo = cache.resolve("models--acme--tiny-gguf");
        assertFalse(Files.exists(repo.resolve("snapshots").resolve(server.commit()).resolve(FILE), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(repo.resolve("refs/main")));
    }

    void assertCacheEmpty() throws IOException {
        try (Stream<Path> s = Files.walk(cache)) {
            assertEquals(List.of(cache), s.toList());
        }
    }

    /** The Range header of every body request the CDN saw (null: none). */
    List<String> cdnRanges() {
        return server.requests().stream().filter(r -> r.server().equals("cdn")).map(FakeHub.Request::range).toList();
    }

    static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(5);
        }
    }
}
