package support;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import llm.Hub;

/**
 * Runs one Hub download in another JVM, for tests that need a second process: two processes
 * fetching the same file, or a download stopped by SIGINT. It prints "started", "waiting" and
 * "done PATH" (or "failed MESSAGE") on stdout.
 */
public final class HubProcess {

    public static void main(String[] args) {
        Hub hub = new Hub(Path.of(args[0]), URI.create(args[1]), null, false)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
                .withRetries(0, Duration.ZERO, Duration.ZERO);
        try {
            Path file = hub.download(args[2], args[3], "main", new Hub.Listener() {
                @Override public void started(String repoId, String filename, long totalBytes, long alreadyHave) {
                    System.out.println("started");
                }
                @Override public void progress(long bytesDone, long totalBytes) {}
                @Override public void finished(Path f) {}
                @Override public void waiting(Path lockFile) {
                    System.out.println("waiting");
                }
            });
            System.out.println("done " + file);
        } catch (RuntimeException e) {
            System.out.println("failed " + e.getMessage());
            System.exit(1);
        }
    }

    /** Starts {@code main} in a new JVM with this JVM's class path; stdout and stderr are merged. */
    public static Process start(Path cache, URI endpoint, String repoId, String filename) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // A quick start matters more than peak speed for a few hundred kB.
        return new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), HubProcess.class.getName(),
                cache.toString(), endpoint.toString(), repoId, filename)
                .redirectErrorStream(true)
                .start();
    }
}
