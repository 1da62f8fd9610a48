package support;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub on 127.0.0.1 for tests: it answers {@code /{repo}/resolve/{revision}/{file}}
 * with the Hub's headers ({@code X-Repo-Commit}, {@code ETag}, {@code X-Linked-Etag},
 * {@code X-Linked-Size}, {@code X-Error-Code}) and redirects LFS files to a second server, the
 * "CDN" (another port, so another origin: the token must not reach it), which serves
 * {@code /cdn/{sha256}} with Range support. Faults can be switched on for the next responses,
 * and every request is recorded.
 */
public final class FakeHub implements AutoCloseable {

    /** One request as the servers saw it. {@code server} is "hub" or "cdn"; absent headers are null. */
    public record Request(String server, String method, String path, String range, String authorization) {}

    private record Entry(byte[] content, String etag, boolean lfs) {}

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService pool;
    private final String commit;
    private final Map<String, Entry> files = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    private final Map<String, String> gated = new ConcurrentHashMap<>();
    private final Map<String, String> overrides = new ConcurrentHashMap<>();
    private final List<Request> requests = new ArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);

    private final ConcurrentLinkedDeque<Integer> nextStatuses = new ConcurrentLinkedDeque<>();
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private final AtomicLong shortAfter = new AtomicLong(-1);
    private final AtomicLong stallAfter = new AtomicLong(-1);
    private volatile boolean corrupt;
    private volatile boolean ignoreRanges;
    private volatile int slowChunk;
    private volatile long slowPauseMillis;

    private FakeHub() throws IOException {
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-hub");
            t.setDaemon(true);
            return t;
        });
        commit = HexFormat.of().formatHex(digest("SHA-1", "fake commit".getBytes(StandardCharsets.UTF_8)));
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.setExecutor(pool);
        cdn.setExecutor(pool);
        hub.start();
        cdn.start();
    }

    public static FakeHub start() {
        try {
            return new FakeHub();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the fake Hub on 127.0.0.1", e);
        }
    }

    /** What HF_ENDPOINT would be: http://127.0.0.1:{port} */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    /** The commit every repo's "main" points to. */
    public String commit() {
        return commit;
    }

    /** Serves a large (LFS) file through the CDN; returns its etag, the sha256 of the content. */
    public String addLfs(String repoId, String filename, byte[] content) {
        String sha256 = HexFormat.of().formatHex(digest("SHA-256", content));
        files.put(repoId + "/" + filename, new Entry(content.clone(), sha256, true));
        blobs.put(sha256, content.clone());
        return sha256;
    }

    /** Serves a small file from the Hub itself; returns its etag, the git blob sha1, as the Hub does. */
    public String addRegular(String repoId, String filename, byte[] content) {
        byte[] header = ("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] blob = Arrays.copyOf(header, header.length + content.length);
        System.arraycopy(content, 0, blob, header.length, content.length);
        String sha1 = HexFormat.of().formatHex(digest("SHA-1", blob));
        files.put(repoId + "/" + filename, new Entry(content.clone(), sha1, false));
        return sha1;
    }

    /** The repo answers 401 without this token and 403 with another one, as a gated repo does. */
    public void gate(String repoId, String token) {
        gated.put(repoId, token);
    }

    /** The next {@code times} requests (HEAD or GET, Hub or CDN) answer {@code status}. */
    public void failNext(int status, int times) {
        for (int i = 0; i < times; i++) nextStatuses.add(status);
    }

    /** The next body announces its full length, sends {@code bytes} and drops the connection. */
    public void cutNextBodyAfter(long bytes) {
        cutAfter.set(bytes);
    }

    /** The next body is sent without a length and ends cleanly after {@code bytes}. */
    public void shortNextBody(long bytes) {
        shortAfter.set(bytes);
    }

    /** The next body sends {@code bytes} and then nothing, until the server is closed. */
    public void stallNextBodyAfter(long bytes) {
        stallAfter.set(bytes);
    }

    /** While on, bodies have one byte changed (same length, so only a hash can tell). */
    public void corruptBodies(boolean on) {
        corrupt = on;
    }

    /** While on, Range headers are ignored: the whole file comes back with 200, as some servers do. */
    public void ignoreRanges(boolean on) {
        ignoreRanges = on;
    }

    /** The Hub's answers carry this header with this value; an empty value removes the header. */
    public void overrideHeader(String name, String value) {
        overrides.put(name, value);
    }

    /** Bodies are sent {@code chunkBytes} at a time with a pause after each; 0 switches it off. */
    public void slow(int chunkBytes, long pauseMillis) {
        slowChunk = chunkBytes;
        slowPauseMillis = pauseMillis;
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public void clearRequests() {
        synchronized (requests) {
            requests.clear();
        }
    }

    /** How many requests with this method reached this server ("hub" or "cdn"). */
    public long count(String server, String method) {
        return requests().stream().filter(r -> r.server.equals(server) && r.method.equals(method)).count();
    }

    @Override
    public void close() {
        closing.countDown(); // lets stalled handlers finish
        hub.stop(0);
        cdn.stop(0);
        pool.shutdownNow();
    }

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            if (failed(ex)) return;
            String path = ex.getRequestURI().getRawPath();
            int at = path.indexOf("/resolve/");
            if (at < 0) {
                send(ex, 404);
                return;
            }
            String repoId = path.substring(1, at);
            String rest = path.substring(at + "/resolve/".length());
            int slash = rest.indexOf('/');
            String revision = decode(slash < 0 ? rest : rest.substring(0, slash));
            String filename = slash < 0 ? "" : decode(rest.substring(slash + 1));
            Headers h = ex.getResponseHeaders();
            boolean repoExists = files.keySet().stream().anyMatch(k -> k.startsWith(repoId + "/"));
            if (!repoExists) {
                // The Hub answers 401 for a repo it does not show you, so as not to reveal private ones.
                error(ex, 401, "RepoNotFound", "Repository not found");
                return;
            }
            String token = gated.get(repoId);
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (token != null && !("Bearer " + token).equals(auth)) {
                error(ex, auth == null ? 401 : 403, "GatedRepo", "Access to model " + repoId + " is restricted.");
                return;
            }
            if (!revision.equals("main") && !revision.equals(commit)) {
                error(ex, 404, "RevisionNotFound", "Invalid rev id: " + revision);
                return;
            }
            Entry entry = files.get(repoId + "/" + filename);
            h.set("X-Repo-Commit", commit);
            if (entry == null) {
                error(ex, 404, "EntryNotFound", "Entry not found");
                return;
            }
            if (entry.lfs) {
                h.set("ETag", "W/\"pointer-" + entry.etag.substring(0, 8) + "\""); // not the content's: X-Linked-Etag is
                h.set("X-Linked-Etag", "\"" + entry.etag + "\"");
                h.set("X-Linked-Size", Long.toString(entry.content.length));
                h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + entry.etag + "?expires=never");
                applyOverrides(h);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            h.set("ETag", "\"" + entry.etag + "\"");
            applyOverrides(h);
            serve(ex, entry.content);
        } catch (IOException | RuntimeException e) {
            // a dropped connection or a deliberate cut: nothing to do
        }
    }

    private void handleCdn(HttpExchange ex) throws IOException {
        try (ex) {
            record("cdn", ex);
            if (failed(ex)) return;
            String path = ex.getRequestURI().getRawPath();
            byte[] content = path.startsWith("/cdn/") ? blobs.get(path.substring(5)) : null;
            if (content == null) {
                send(ex, 404);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + path.substring(5) + "\"");
            serve(ex, content);
        } catch (IOException | RuntimeException e) {
            // as above
        }
    }

    /** The bytes, honouring "Range: bytes=N-" and the switched-on faults. */
    private void serve(HttpExchange ex, byte[] content) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Accept-Ranges", "bytes");
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        Matcher m = range == null ? null : RANGE.matcher(range);
        boolean ranged = m != null && m.matches() && !ignoreRanges;
        if (ranged) {
            long start = Long.parseLong(m.group(1));
            if (start >= content.length) {
                h.set("Content-Range", "bytes */" + content.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            from = (int) start;
        }
        int status = ranged ? 206 : 200;
        if (status == 206) h.set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        byte[] body = Arrays.copyOfRange(content, from, content.length);
        if (ex.getRequestMethod().equals("HEAD")) {
            h.set("Content-Length", Long.toString(body.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        if (corrupt && body.length > 0) body[body.length / 2] ^= 0x5a;

        long cut = cutAfter.getAndSet(-1);
        long shortLength = shortAfter.getAndSet(-1);
        long stall = stallAfter.getAndSet(-1);
        ex.sendResponseHeaders(status, shortLength >= 0 ? 0 : body.length); // 0 = chunked, no length announced
        OutputStream out = ex.getResponseBody();
        long limit = cut >= 0 ? cut : shortLength >= 0 ? shortLength : stall >= 0 ? stall : body.length;
        write(out, body, (int) Math.min(limit, body.length));
        out.flush();
        if (stall >= 0) {
            try {
                closing.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("stalled on purpose");
        }
        if (cut >= 0) {
            ex.close(); // fewer bytes than Content-Length: the server closes the connection
            throw new IOException("cut on purpose");
        }
        out.close();
    }

    private void write(OutputStream out, byte[] body, int length) throws IOException {
        int chunk = slowChunk;
        if (chunk <= 0) {
            out.write(body, 0, length);
            return;
        }
        for (int at = 0; at < length; at += chunk) {
            out.write(body, at, Math.min(chunk, length - at));
            out.flush();
            try {
                Thread.sleep(slowPauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("server closing");
            }
        }
    }

    private void applyOverrides(Headers h) {
        overrides.forEach((name, value) -> {
            if (value.isEmpty()) h.remove(name);
            else h.set(name, value);
        });
    }

    private boolean failed(HttpExchange ex) throws IOException {
        Integer status = nextStatuses.poll();
        if (status == null) return false;
        send(ex, status);
        return true;
    }

    private void error(HttpExchange ex, int status, String code, String message) throws IOException {
        ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        send(ex, status);
    }

    private static void send(HttpExchange ex, int status) throws IOException {
        ex.sendResponseHeaders(status, -1);
    }

    private void record(String server, HttpExchange ex) {
        Headers in = ex.getRequestHeaders();
        synchronized (requests) {
            requests.add(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                    in.getFirst("Range"), in.getFirst("Authorization")));
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
