//SOURCES HubException.java

package llm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Downloads files from the Hugging Face Hub into the cache layout that Python's huggingface_hub
 * writes, so a Python user's cache is reused and ours is usable from Python:
 *
 * <pre>
 * {cache}/models--{owner}--{name}/
 *     blobs/{etag}                       the bytes (etag = sha256 for LFS files, git sha1 otherwise)
 *     snapshots/{commit}/{filename}      relative symlink to ../../blobs/{etag}
 *     refs/{revision}                    the commit the revision (e.g. "main") pointed to
 * </pre>
 *
 * The protocol is the Hub's {@code resolve} URL: a HEAD tells the commit ({@code X-Repo-Commit}),
 * the etag and size ({@code X-Linked-Etag}/{@code ETag}, {@code X-Linked-Size}/{@code Content-Length})
 * and, for large files, redirects to a CDN. The bytes go to {@code blobs/{etag}.incomplete}, a later
 * run resumes them with a {@code Range} request, and only a file whose size (and sha256, when the
 * etag is one) matches what the Hub announced is renamed to its blob name. So after any failure
 * the cache holds nothing for that file, an {@code .incomplete}, or a complete verified blob.
 *
 * <p>Once a revision's file is in the cache it is used without asking the Hub again, so runs work
 * offline and start at once (a new upload to {@code main} is not picked up; pass a commit to pin).
 *
 * <p>The Hub never prints: it reports through the {@link Listener} the caller passes.
 */
public final class Hub {

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    /** What a download reports while it runs. Called on the downloading thread. */
    public interface Listener {
        /** The transfer begins; {@code totalBytes} is -1 when the Hub did not say. */
        void started(String repoId, String filename, long totalBytes, long alreadyHave);

        /** {@code bytesDone} counts everything in the file so far, resumed bytes included. */
        void progress(long bytesDone, long totalBytes);

        /** The file is complete and verified (possibly downloaded by another thread or process). */
        void finished(Path file);

        /** A transient failure; the transfer goes on after {@code wait}. {@code attempt} counts retries from 1. */
        default void retrying(int attempt, String reason, Duration wait) {}

        /** Another thread or process is downloading the same file; this one waits for it. */
        default void waiting(Path lockFile) {}
    }

    private static final Listener SILENT = new Listener() {
        @Override public void started(String repoId, String filename, long totalBytes, long alreadyHave) {}
        @Override public void progress(long bytesDone, long totalBytes) {}
        @Override public void finished(Path file) {}
    };

    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** What we accept from the server as a commit or etag, used as file names: no separators, no dots (so no ".."
     *  and no clash with our ".incomplete" and ".lock" files). The Hub sends hex. */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** FileChannel locks are per process: threads of this JVM also queue on one lock per lock file. */
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS_IN_THIS_JVM = new ConcurrentHashMap<>();

    private final Path cacheDir;
    private final URI endpoint;
    private final String token;
    private final boolean offline;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final int maxRetries;
    private final Duration firstWait;
    private final Duration maxWait;

    /**
     * A Hub client with explicit settings (tests, or callers that do not want the environment).
     * Defaults: 10 s to connect, 10 s without a byte before a transfer counts as stalled (as
     * huggingface_hub), 5 retries waiting 1, 2, 4, 8, 8 s.
     */
    public Hub(Path cacheDir, URI endpoint, String token, boolean offline) {
        this(cacheDir, endpoint, token, offline, Duration.ofSeconds(10), Duration.ofSeconds(10), 5,
                Duration.ofSeconds(1), Duration.ofSeconds(8));
    }

    private Hub(Path cacheDir, URI endpoint, String token, boolean offline, Duration connectTimeout,
                Duration readTimeout, int maxRetries, Duration firstWait, Duration maxWait) {
        if (cacheDir == null) throw new HubException("No Hugging Face cache folder given");
        if (endpoint == null || endpoint.getHost() == null
                || !("http".equalsIgnoreCase(endpoint.getScheme()) || "https".equalsIgnoreCase(endpoint.getScheme()))) {
            throw new HubException("Hub endpoint is not an http(s) URL: " + endpoint);
        }
        String e = endpoint.toString();
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
        this.endpoint = URI.create(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.offline = offline;
        this.connectTimeout = positive(connectTimeout, "connect timeout");
        this.readTimeout = positive(readTimeout, "read timeout");
        if (maxRetries < 0) throw new HubException("Number of retries must be >= 0, got " + maxRetries);
        this.maxRetries = maxRetries;
        this.firstWait = positiveOrZero(firstWait, "retry wait");
        this.maxWait = positiveOrZero(maxWait, "maximum retry wait");
    }

    /** The Hub as huggingface_hub configures it from the environment of this process. */
    public static Hub fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * The Hub as huggingface_hub configures it from these variables: {@code HF_HUB_CACHE} (else
     * {@code $HF_HOME/hub}, {@code HF_HOME} defaulting to {@code $XDG_CACHE_HOME/huggingface} or
     * {@code ~/.cache/huggingface}), {@code HF_ENDPOINT}, {@code HF_TOKEN} (else the token file
     * {@code huggingface-cli login} writes, {@code $HF_HOME/token}), {@code HF_HUB_OFFLINE},
     * {@code HF_HUB_DOWNLOAD_TIMEOUT} (seconds without data before a transfer counts as stalled).
     */
    public static Hub fromEnvironment(Map<String, String> env) {
        String home = System.getProperty("user.home");
        Path hfHome = nonBlank(env.get("HF_HOME")) != null ? expandHome(env.get("HF_HOME"), home)
                : nonBlank(env.get("XDG_CACHE_HOME")) != null ? expandHome(env.get("XDG_CACHE_HOME"), home).resolve("huggingface")
                : Path.of(home, ".cache", "huggingface");
        String cacheVar = nonBlank(env.get("HF_HUB_CACHE")) != null ? env.get("HF_HUB_CACHE") : nonBlank(env.get("HUGGINGFACE_HUB_CACHE"));
        Path cache = cacheVar != null ? expandHome(cacheVar, home) : hfHome.resolve("hub");

        String endpointVar = nonBlank(env.get("HF_ENDPOINT"));
        URI endpoint;
        try {
            endpoint = URI.create(endpointVar != null ? endpointVar.strip() : DEFAULT_ENDPOINT);
        } catch (IllegalArgumentException e) {
            throw new HubException("HF_ENDPOINT is not a URL: " + endpointVar);
        }
        if (endpoint.getHost() == null) throw new HubException("HF_ENDPOINT is not an http(s) URL: " + endpointVar);

        String token = nonBlank(env.get("HF_TOKEN")) != null ? env.get("HF_TOKEN") : nonBlank(env.get("HUGGING_FACE_HUB_TOKEN"));
        if (token == null) {
            Path tokenFile = nonBlank(env.get("HF_TOKEN_PATH")) != null ? expandHome(env.get("HF_TOKEN_PATH"), home) : hfHome.resolve("token");
            try {
                if (Files.isRegularFile(tokenFile)) token = nonBlank(Files.readString(tokenFile).strip());
            } catch (IOException | RuntimeException e) {
                token = null; // an unreadable token file is the same as none: public models still work
            }
        }

        boolean offline = isTrue(env.get("HF_HUB_OFFLINE"));
        Hub hub = new Hub(cache, endpoint, token, offline);
        String timeout = nonBlank(env.get("HF_HUB_DOWNLOAD_TIMEOUT"));
        if (timeout != null) {
            try {
                double seconds = Double.parseDouble(timeout.strip());
                if (!(seconds > 0) || seconds > 86_400) throw new NumberFormatException();
                hub = hub.withTimeouts(hub.connectTimeout, Duration.ofMillis(Math.round(seconds * 1000)));
            } catch (NumberFormatException e) {
                throw new HubException("HF_HUB_DOWNLOAD_TIMEOUT must be a number of seconds, got '" + timeout + "'");
            }
        }
        return hub;
    }

    /** The same Hub with other timeouts: {@code read} is how long a transfer may go without a byte. */
    public Hub withTimeouts(Duration connect, Duration read) {
        return new Hub(cacheDir, endpoint, token, offline, connect, read, maxRetries, firstWait, maxWait);
    }

    /** The same Hub with another retry policy: waits double from {@code firstWait} up to {@code maxWait}. */
    public Hub withRetries(int retries, Duration firstWait, Duration maxWait) {
        return new Hub(cacheDir, endpoint, token, offline, connectTimeout, readTimeout, retries, firstWait, maxWait);
    }

    public Path cacheDir() { return cacheDir; }

    public URI endpoint() { return endpoint; }

    public boolean offline() { return offline; }

    /** The URL the Hub serves a file at: {@code {endpoint}/{repo}/resolve/{revision}/{filename}}. */
    public URI resolveUrl(String repoId, String filename, String revision) {
        String rev = revisionOrMain(revision);
        checkNames(repoId, filename, rev);
        return URI.create(endpoint + "/" + repoId + "/resolve/" + percentEncode(rev, false) + "/" + percentEncode(filename, true));
    }

    /**
     * The cached file for this revision (a branch or tag through {@code refs/}, or a commit), if the
     * cache has it complete. Never touches the network.
     */
    public Optional<Path> cached(String repoId, String filename, String revision) {
        String rev = revisionOrMain(revision);
        checkNames(repoId, filename, rev);
        Path repo = cacheDir.resolve(folderName(repoId));
        String commit = rev;
        Path ref = repo.resolve("refs").resolve(rev);
        if (!COMMIT.matcher(rev).matches() && Files.isRegularFile(ref)) {
            try {
                commit = Files.readString(ref).strip();
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        if (!SAFE_NAME.matcher(commit).matches()) return Optional.empty();
        Path file = repo.resolve("snapshots").resolve(commit).resolve(filename);
        // A blob gets its name only once verified, so a snapshot entry that resolves is complete.
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    /**
     * The file from the cache, or else downloaded into it; returns {@code snapshots/{commit}/{filename}}.
     * A cache hit makes no request and reports nothing to the listener. Transient failures (a
     * dropped connection, a stall, HTTP 5xx/429) are retried with a doubling wait, resuming
     * where the bytes stopped; what is left after the last retry stays for the next call.
     *
     * @param revision a branch, tag or commit; null means "main"
     * @param listener progress reports, may be null
     * @throws HubException with a one-line message for everything that can go wrong
     */
    public Path download(String repoId, String filename, String revision, Listener listener) {
        String rev = revisionOrMain(revision);
        Optional<Path> hit = cached(repoId, filename, rev);
        if (hit.isPresent()) return hit.get();
        URI url = resolveUrl(repoId, filename, rev);
        if (offline) {
            throw new HubException(repoId + "/" + filename + " is not in the Hugging Face cache " + cacheDir
                    + " and HF_HUB_OFFLINE=1 forbids downloading it: unset HF_HUB_OFFLINE to fetch " + url
                    + ", or copy a cache that has it (e.g. made with `hf download " + repoId + " " + filename + "`) there");
        }
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER) // we follow them, to keep the token off other hosts
                .version("https".equalsIgnoreCase(endpoint.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                .build();
        try {
            return new Transfer(client, repoId, filename, rev, url, listener == null ? SILENT : listener).run();
        } finally {
            client.shutdownNow();
        }
    }

    /** One download: metadata, lock, bytes, verification, cache entries. */
    private final class Transfer {
        private final HttpClient client;
        private final String repoId;
        private final String filename;
        private final String revision;
        private final URI url;
        private final Listener listener;
        private boolean started;
        private boolean waited;

        Transfer(HttpClient client, String repoId, String filename, String revision, URI url, Listener listener) {
            this.client = client;
            this.repoId = repoId;
            this.filename = filename;
            this.revision = revision;
            this.url = url;
            this.listener = listener;
        }

        Path run() {
            Metadata meta = withRetries(this::head);
            Path repo = cacheDir.resolve(folderName(repoId));
            Path blobs = repo.resolve("blobs");
            Path blob = blobs.resolve(meta.etag);
            Path pointer = repo.resolve("snapshots").resolve(meta.commit).resolve(filename);
            try {
                Files.createDirectories(blobs);
            } catch (IOException e) {
                throw new HubException("Cannot create the cache folder " + blobs + " (" + reason(e)
                        + "): set HF_HOME or HF_HUB_CACHE to a writable folder", e);
            }
            try {
                if (!Files.isRegularFile(pointer)) {
                    if (Files.isRegularFile(blob)) {
                        linkSnapshot(blob, pointer, false, true); // the same bytes under another commit
                    } else {
                        fetchLocked(meta, blobs, blob, pointer);
                    }
                }
                writeRefFor(repo, revision, meta.commit);
            } catch (IOException e) {
                throw new HubException("Cannot write to the Hugging Face cache " + repo + " (" + reason(e) + ")", e);
            }
            listener.finished(pointer);
            return pointer;
        }

        /** Only one thread of one process fetches a blob; the others wait, then find it there. */
        private void fetchLocked(Metadata meta, Path blobs, Path blob, Path pointer) throws IOException {
            Path lockFile = blobs.toRealPath().resolve(meta.etag + ".lock");
            ReentrantLock inJvm = LOCKS_IN_THIS_JVM.computeIfAbsent(lockFile, k -> new ReentrantLock());
            try {
                if (!inJvm.tryLock()) {
                    waitingFor(lockFile);
                    inJvm.lockInterruptibly();
                }
            } catch (InterruptedException e) {
                throw interrupted(null, 0);
            }
            // The lock file stays: deleting it could let a third process lock a new file while a
            // second still holds the old one, and both would write the same .incomplete.
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    waitingFor(lockFile);
                    lock = channel.lock();
                }
                if (Files.isRegularFile(pointer)) return; // someone else finished while we waited
                if (Files.isRegularFile(blob)) {
                    linkSnapshot(blob, pointer, false, true);
                    return;
                }
                Path incomplete = blobs.resolve(meta.etag + ".incomplete");
                withRetries(() -> { fetchOnce(meta, incomplete); return null; });
                try {
                    Files.move(incomplete, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(incomplete, blob, StandardCopyOption.REPLACE_EXISTING);
                }
                linkSnapshot(blob, pointer, true, true);
            } catch (java.nio.channels.FileLockInterruptionException e) {
                throw interrupted(null, 0);
            } finally {
                inJvm.unlock();
            }
        }

        private void waitingFor(Path lockFile) {
            if (!waited) listener.waiting(lockFile);
            waited = true;
        }

        /** HEAD the resolve URL: commit, etag, size, and where the bytes are (a CDN for large files). */
        private Metadata head() throws Retryable {
            URI current = url;
            for (int hop = 0; hop < 10; hop++) {
                HttpRequest request = request(current).HEAD().build();
                HttpResponse<Void> response;
                try {
                    response = client.send(request, HttpResponse.BodyHandlers.discarding());
                } catch (ConnectException | HttpConnectTimeoutException e) {
                    throw new HubException("Cannot reach " + current.getHost() + " (" + reason(e) + ") and " + repoId + "/" + filename
                            + " is not in the Hugging Face cache " + cacheDir + ": connect to the internet and run again, or copy a cache"
                            + " that has it there (e.g. made with `hf download " + repoId + " " + filename + "`)", e);
                } catch (HttpTimeoutException e) {
                    throw new Retryable(current.getHost() + " did not answer within " + seconds(readTimeout), null);
                } catch (IOException e) {
                    throw new Retryable("connection to " + current.getHost() + " failed (" + reason(e) + ")", null);
                } catch (InterruptedException e) {
                    throw interrupted(null, 0);
                }
                int status = response.statusCode();
                String location = response.headers().firstValue("Location").orElse(null);
                if (status >= 300 && status < 400 && location != null) {
                    URI target = current.resolve(location);
                    // Redirects on the Hub itself (a renamed repo) are followed; one elsewhere is the CDN.
                    if (sameOrigin(target, current)) {
                        current = target;
                        continue;
                    }
                    return metadata(response.headers(), target);
                }
                if (status >= 200 && status < 300) return metadata(response.headers(), current);
                throw httpError(status, response.headers(), current);
            }
            throw new HubException("Too many redirects for " + url);
        }

        private Metadata metadata(HttpHeaders headers, URI location) {
            String commit = headers.firstValue("X-Repo-Commit").orElse(null);
            if (commit == null || !SAFE_NAME.matcher(commit).matches()) {
                throw new HubException(url + " did not answer like the Hugging Face Hub (no valid X-Repo-Commit header): check HF_ENDPOINT");
            }
            String etag = normalizeEtag(headers.firstValue("X-Linked-Etag").orElse(headers.firstValue("ETag").orElse(null)));
            if (etag == null || !SAFE_NAME.matcher(etag).matches()) {
                throw new HubException(url + " sent no usable ETag, so the download could not be verified or cached");
            }
            long size = number(headers, "X-Linked-Size");
            if (size < 0) size = number(headers, "Content-Length");
            return new Metadata(commit, etag, size, location);
        }

        /** One GET of the remaining bytes into the .incomplete file; throws Retryable for what a retry may fix. */
        private void fetchOnce(Metadata meta, Path incomplete) throws Retryable, IOException {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            if (meta.size >= 0 && have > meta.size) {
                Files.delete(incomplete); // more than the file has: not ours to resume
                have = 0;
            }
            MessageDigest sha = SHA256.matcher(meta.etag).matches() ? sha256() : null;
            if (sha != null && have > 0) hashPrefix(sha, incomplete, have);
            if (!started) {
                listener.started(repoId, filename, meta.size, have);
                started = true;
                checkFreeSpace(incomplete.getParent(), meta.size - have);
            }
            if (meta.size < 0 || have < meta.size) {
                have = transfer(meta, incomplete, have, sha);
            }
            if (meta.size >= 0 && have < meta.size) {
                throw new Retryable("the server sent fewer bytes than announced (" + have + " of " + meta.size + ")", null, have);
            }
            if (sha != null) {
                String actual = HexFormat.of().formatHex(sha.digest());
                if (!actual.equals(meta.etag)) {
                    Files.deleteIfExists(incomplete);
                    throw new HubException("The download of " + repoId + "/" + filename + " does not match the sha256 the Hub announced"
                            + " (expected " + meta.etag + ", got " + actual + "); it was deleted, run again to download it anew");
                }
            }
        }

        /** Streams the body after {@code have}; returns the bytes in the file afterwards. */
        private long transfer(Metadata meta, Path incomplete, long have, MessageDigest sha) throws Retryable, IOException {
            URI current = meta.location;
            for (int hop = 0; hop < 10; hop++) {
                HttpRequest.Builder builder = request(current).GET();
                if (have > 0) builder.header("Range", "bytes=" + have + "-");
                HttpResponse<Flow.Publisher<List<ByteBuffer>>> response;
                try {
                    response = client.send(builder.build(), HttpResponse.BodyHandlers.ofPublisher());
                } catch (HttpTimeoutException e) {
                    throw new Retryable(current.getHost() + " did not answer within " + seconds(readTimeout), null, have);
                } catch (IOException e) {
                    throw new Retryable("connection to " + current.getHost() + " failed (" + reason(e) + ")", null, have);
                } catch (InterruptedException e) {
                    throw interrupted(incomplete, have);
                }
                int status = response.statusCode();
                String location = response.headers().firstValue("Location").orElse(null);
                if (status >= 300 && status < 400 && location != null) {
                    discard(response);
                    current = current.resolve(location);
                    continue;
                }
                if (status == 416) {
                    discard(response);
                    Files.deleteIfExists(incomplete); // the server cannot continue our partial file
                    throw new Retryable(current.getHost() + " refused to resume at byte " + have, null);
                }
                if (status != 200 && status != 206) {
                    discard(response);
                    throw httpError(status, response.headers(), current);
                }
                if (status == 206) {
                    long start = rangeStart(response.headers());
                    if (start != have) {
                        discard(response);
                        Files.deleteIfExists(incomplete);
                        throw new Retryable(current.getHost() + " resumed at byte " + start + " instead of " + have, null);
                    }
                } else if (have > 0) {
                    have = 0; // the server ignored the Range: it sends the whole file again
                    if (sha != null) sha.reset();
                }
                return stream(response.body(), meta.size, incomplete, have, sha, current.getHost());
            }
            throw new HubException("Too many redirects for " + meta.location);
        }

        private long stream(Flow.Publisher<List<ByteBuffer>> body, long size, Path incomplete, long have, MessageDigest sha,
                            String host) throws Retryable, IOException {
            BodyQueue queue = new BodyQueue();
            body.subscribe(queue);
            FileChannel out;
            try {
                out = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                out.truncate(have);
                out.position(have);
            } catch (IOException e) {
                queue.cancel();
                throw writeFailed(incomplete, e, have);
            }
            try (out) {
                while (true) {
                    Object item;
                    try {
                        item = queue.next(readTimeout);
                    } catch (InterruptedException e) {
                        queue.cancel();
                        throw interrupted(incomplete, have);
                    }
                    if (item == null) {
                        queue.cancel();
                        throw new Retryable("no data from " + host + " for " + seconds(readTimeout), null, have);
                    }
                    if (item == BodyQueue.END) break;
                    if (item instanceof Throwable t) {
                        throw new Retryable("the connection to " + host + " broke after " + size(have) + " (" + reason(t) + ")", null, have);
                    }
                    @SuppressWarnings("unchecked") List<ByteBuffer> buffers = (List<ByteBuffer>) item;
                    for (ByteBuffer buffer : buffers) {
                        int n = buffer.remaining();
                        if (size >= 0 && have + n > size) {
                            queue.cancel();
                            out.close();
                            Files.deleteIfExists(incomplete);
                            throw new HubException(host + " sent more than the " + size + " bytes the Hub announced for "
                                    + repoId + "/" + filename + "; the partial file was deleted, run again");
                        }
                        if (sha != null) sha.update(buffer.duplicate());
                        try {
                            while (buffer.hasRemaining()) out.write(buffer);
                        } catch (IOException e) {
                            queue.cancel();
                            throw writeFailed(incomplete, e, have);
                        }
                        have += n;
                    }
                    listener.progress(have, size);
                }
                try {
                    out.force(true); // on disk before the rename makes it trusted
                } catch (IOException e) {
                    throw writeFailed(incomplete, e, have);
                }
            }
            return have;
        }

        private HubException writeFailed(Path incomplete, IOException e, long have) {
            if (e instanceof ClosedByInterruptException) return interrupted(incomplete, have);
            return new HubException("Cannot write " + incomplete + " (" + reason(e) + "): free some disk space or set HF_HOME to a"
                    + " folder on a larger disk, then run again" + (have > 0 ? " (the " + size(have) + " so far are kept and resumed)" : ""), e);
        }

        private void checkFreeSpace(Path dir, long needed) {
            if (needed <= 0) return;
            try {
                long usable = Files.getFileStore(dir).getUsableSpace();
                if (usable > 0 && usable < needed) { // 0 means the file system does not tell
                    throw new HubException(repoId + "/" + filename + " needs " + size(needed) + " more in " + dir + " but only "
                            + size(usable) + " are free: free some space or set HF_HOME to a folder on a larger disk");
                }
            } catch (IOException e) {
                // cannot tell: try, and report a failed write if it comes to that
            }
        }

        private HubException interrupted(Path incomplete, long have) {
            Thread.currentThread().interrupt();
            return new HubException("The download of " + repoId + "/" + filename + " was interrupted"
                    + (incomplete != null && have > 0 ? "; the " + size(have) + " so far are kept in " + incomplete + " and resumed next time" : ""));
        }

        /** Runs {@code call}, retrying what may be transient with a doubling wait, reported to the listener. */
        private <T> T withRetries(RetryableCall<T> call) {
            for (int attempt = 1; ; attempt++) {
                try {
                    return call.run();
                } catch (Retryable r) {
                    if (attempt > maxRetries) {
                        throw new HubException("Download of " + repoId + "/" + filename + " failed: " + r.getMessage()
                                + (maxRetries > 0 ? " (gave up after " + (maxRetries + 1) + " attempts)" : "")
                                + (r.kept > 0 ? "; the " + size(r.kept) + " so far are kept and the next run resumes" : ""));
                    }
                    Duration wait = r.retryAfter != null ? r.retryAfter : backoff(attempt);
                    listener.retrying(attempt, r.getMessage(), wait);
                    try {
                        Thread.sleep(wait);
                    } catch (InterruptedException e) {
                        throw interrupted(null, 0);
                    }
                } catch (ClosedByInterruptException e) {
                    throw interrupted(null, 0);
                } catch (IOException e) {
                    throw new HubException("Cannot write to the Hugging Face cache " + cacheDir + " (" + reason(e) + ")", e);
                }
            }
        }

        private Duration backoff(int attempt) {
            long ms = firstWait.toMillis() << Math.min(attempt - 1, 20);
            return Duration.ofMillis(Math.min(ms, maxWait.toMillis()));
        }

        private RuntimeException httpError(int status, HttpHeaders headers, URI where) throws Retryable {
            if (status == 429 || status >= 500) {
                long seconds = number(headers, "Retry-After"); // also an HTTP date, which we leave to the back-off
                Duration retryAfter = seconds >= 0 && seconds <= 60 ? Duration.ofSeconds(seconds) : null;
                throw new Retryable(where.getHost() + " answered HTTP " + status, retryAfter);
            }
            String code = headers.firstValue("X-Error-Code").orElse("");
            String page = endpoint + "/" + repoId;
            if (!sameOrigin(where, endpoint)) {
                return new HubException("The download server " + where.getHost() + " refused " + repoId + "/" + filename + " (HTTP " + status + ")");
            }
            if (code.equals("GatedRepo") || status == 403) {
                return new HubException(token == null
                        ? repoId + " is a gated model: create a token at " + endpoint + "/settings/tokens, set HF_TOKEN to it, and accept the licence on " + page + " (HTTP " + status + ")"
                        : "Your HF_TOKEN has no access to " + repoId + ": accept the licence on " + page + " with the account of that token, and check the token (HTTP " + status + ")");
            }
            if (status == 401) {
                return new HubException(token == null
                        ? repoId + " was not found on " + endpoint + ", or it is private or gated: check the name, or set HF_TOKEN and accept the licence on " + page + " (HTTP 401)"
                        : endpoint + " refused HF_TOKEN for " + repoId + ": check that the token is valid, that it has access, and that the repo exists (HTTP 401)");
            }
            if (status == 404) {
                return new HubException(switch (code) {
                    case "RepoNotFound" -> "Repository " + repoId + " not found on " + endpoint + " (HTTP 404)";
                    case "RevisionNotFound" -> "Revision '" + revision + "' not found in " + repoId + " (HTTP 404)";
                    default -> filename + " not found in " + repoId + " at revision '" + revision + "' (" + url + ", HTTP 404)";
                });
            }
            return new HubException(where.getHost() + " answered HTTP " + status + " for " + repoId + "/" + filename);
        }

        private HttpRequest.Builder request(URI target) {
            HttpRequest.Builder b = HttpRequest.newBuilder(target)
                    .timeout(readTimeout) // until the response headers arrive; the body has its own stall timer
                    .header("User-Agent", "transformer-playground; java/" + Runtime.version().feature())
                    .header("Accept-Encoding", "identity"); // sizes and hashes are of the raw bytes
            // The token goes to the Hub only, never to the CDN a download is redirected to.
            if (token != null && sameOrigin(target, endpoint)) b.header("Authorization", "Bearer " + token);
            return b;
        }
    }

    private record Metadata(String commit, String etag, long size, URI location) {}

    @FunctionalInterface
    private interface RetryableCall<T> {
        T run() throws Retryable, IOException;
    }

    /** A failure that a retry may fix (a dropped connection, a 5xx, a stall); {@code kept} bytes stay for resuming. */
    private static final class Retryable extends Exception {
        final Duration retryAfter;
        final long kept;

        Retryable(String message, Duration retryAfter) {
            this(message, retryAfter, 0);
        }

        Retryable(String message, Duration retryAfter, long kept) {
            super(message, null, false, false);
            this.retryAfter = retryAfter;
            this.kept = kept;
        }
    }

    /**
     * Receives the response body on the HTTP client's threads and hands it to the downloading
     * thread, which waits at most the read timeout for each piece: that is how a stall is noticed.
     */
    private static final class BodyQueue implements Flow.Subscriber<List<ByteBuffer>> {
        static final Object END = new Object();
        private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
        private Flow.Subscription subscription;
        private boolean cancelled;

        @Override public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (cancelled) s.cancel();
            else s.request(4);
        }

        @Override public void onNext(List<ByteBuffer> buffers) { items.add(buffers); }

        @Override public void onError(Throwable t) { items.add(t); }

        @Override public void onComplete() { items.add(END); }

        /** The next list of buffers, END, a Throwable, or null when nothing came within the timeout. */
        Object next(Duration timeout) throws InterruptedException {
            Object item = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (item instanceof List<?>) {
                synchronized (this) {
                    if (!cancelled) subscription.request(1);
                }
            }
            return item;
        }

        synchronized void cancel() {
            cancelled = true;
            if (subscription != null) subscription.cancel();
        }
    }

    private static void discard(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response) {
        BodyQueue queue = new BodyQueue();
        response.body().subscribe(queue);
        queue.cancel();
    }

    /**
     * snapshots/{commit}/{filename} -> ../../blobs/{etag}, relative so the cache can be moved.
     * {@code trySymlink} is false only in tests of the fallback.
     */
    static void linkSnapshot(Path blob, Path pointer, boolean newBlob, boolean trySymlink) throws IOException {
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer); // a dangling link left by a deleted blob
        if (trySymlink) {
            try {
                Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
                return;
            } catch (FileAlreadyExistsException e) {
                if (Files.isRegularFile(pointer) && Files.isSameFile(pointer, blob)) return; // a concurrent run made it
                throw e;
            } catch (UnsupportedOperationException | IOException e) {
                // No symlinks here (Windows without Developer Mode, some network drives): do what
                // huggingface_hub does, move a new blob into the snapshot, copy one that others may share.
            }
        }
        if (newBlob) {
            Files.move(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        } else {
            Path tmp = pointer.resolveSibling(pointer.getFileName() + uniqueSuffix() + ".incomplete");
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** refs/{revision} holds the commit, without a newline, as huggingface_hub writes it. */
    private void writeRefFor(Path repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path ref = repo.resolve("refs").resolve(revision);
        if (Files.isRegularFile(ref) && Files.readString(ref).strip().equals(commit)) return; // a read-only cache stays usable
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + uniqueSuffix() + ".tmp"); // others may write the same ref
        Files.writeString(tmp, commit);
        try {
            Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A name part no other thread or process uses now (createTempFile would make the file private to us). */
    private static String uniqueSuffix() {
        return "." + ProcessHandle.current().pid() + "-" + Thread.currentThread().threadId();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    private static void hashPrefix(MessageDigest sha, Path file, long length) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            long left = length;
            while (left > 0) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), left));
                int n = in.read(buffer);
                if (n < 0) throw new IOException("file shrank while reading");
                buffer.flip();
                sha.update(buffer);
                left -= n;
            }
        }
    }

    /** A header's non-negative number, or -1 when it is absent or not a number (servers are not trusted). */
    private static long number(HttpHeaders headers, String name) {
        String value = headers.firstValue(name).orElse("").strip();
        if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) return -1;
        return Long.parseLong(value);
    }

    private static long rangeStart(HttpHeaders headers) {
        // Content-Range: bytes 100-199/200
        String range = headers.firstValue("Content-Range").orElse("");
        var m = Pattern.compile("bytes\\s+(\\d+)-").matcher(range);
        return m.lookingAt() && m.group(1).length() <= 18 ? Long.parseLong(m.group(1)) : -1;
    }

    /** ETag: "abc" or W/"abc" -> abc */
    static String normalizeEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.isEmpty() ? null : e;
    }

    /** models--{owner}--{name}, as huggingface_hub names a model repo's folder. */
    static String folderName(String repoId) {
        return "models--" + repoId.replace("/", "--");
    }

    private static void checkNames(String repoId, String filename, String revision) {
        if (repoId == null || !REPO_ID.matcher(repoId).matches() || repoId.contains("--") || repoId.contains("..") || repoId.length() > 96) {
            throw new HubException("Not a Hugging Face repo id: '" + repoId + "' (expected owner/name, e.g. microsoft/Phi-3-mini-4k-instruct-gguf)");
        }
        if (!isRelativePath(filename)) {
            throw new HubException("Not a file name in a Hugging Face repo: '" + filename + "' (expected e.g. tokenizer.json or folder/file.bin)");
        }
        if (!isRelativePath(revision)) {
            throw new HubException("Not a revision: '" + revision + "' (expected a branch, tag or commit, e.g. main)");
        }
    }

    private static boolean isRelativePath(String s) {
        if (s == null || s.isEmpty() || s.length() > 1000 || s.contains("\\")) return false;
        for (String part : s.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) return false;
            for (int i = 0; i < part.length(); i++) if (part.charAt(i) < 0x20 || part.charAt(i) == 0x7f) return false;
        }
        return true;
    }

    private static String revisionOrMain(String revision) {
        return revision == null || revision.isBlank() ? "main" : revision;
    }

    /** Percent-encodes all but the unreserved characters (and '/' in file paths), as huggingface_hub's quote(). */
    private static String percentEncode(String s, boolean keepSlash) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (x & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || (keepSlash && c == '/')) {
                b.append(c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** A few words on why an I/O operation failed; the HTTP client often leaves the message empty. */
    private static String reason(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof UnresolvedAddressException || c instanceof UnknownHostException) return "host not found";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && !m.isBlank()) return m.replace('\n', ' ').strip();
        }
        if (t instanceof ConnectException) return "connection failed";
        if (t instanceof InterruptedIOException) return "interrupted";
        return t.getClass().getSimpleName();
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private static String size(long bytes) {
        if (bytes >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
        if (bytes >= 1_000_000L) return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        return bytes + " bytes";
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) throw new HubException("The " + what + " must be positive, got " + d);
        return d;
    }

    private static Duration positiveOrZero(Duration d, String what) {
        if (d == null || d.isNegative()) throw new HubException("The " + what + " must not be negative, got " + d);
        return d;
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static Path expandHome(String path, String home) {
        String p = path.strip();
        if (p.equals("~")) return Path.of(home);
        if (p.startsWith("~/")) return Path.of(home, p.substring(2));
        return Path.of(p);
    }

    /** huggingface_hub's truth values for its flags. */
    private static boolean isTrue(String value) {
        return value != null && switch (value.strip().toUpperCase(Locale.ROOT)) {
            case "1", "ON", "YES", "TRUE" -> true;
            default -> false;
        };
    }
}
