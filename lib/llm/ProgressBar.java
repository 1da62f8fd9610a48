//SOURCES Hub.java

package llm;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Locale;

/**
 * Shows a Hub download on a stream: a bar, the size, the speed and the time left. On a terminal
 * it redraws one line with {@code \r} (a few times a second); into a file or a pipe it prints a
 * few plain lines (start, every quarter, end), so logs stay readable.
 *
 * <pre>
 * [############..................]  41%  0.98/2.39 GB  24.5 MB/s  ETA 58s
 * </pre>
 */
public final class ProgressBar implements Hub.Listener {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final InstantSource clock;

    private String name = "";
    private long startNanos;
    private long startBytes;
    private long lastDrawNanos = Long.MIN_VALUE;
    private int lastLineLength;
    private int quartersPrinted;
    private long lastDone;
    private long total = -1;
    private boolean active;

    /** Redraws when {@code out} is this process's terminal, plain lines otherwise. */
    public ProgressBar(PrintStream out) {
        this(out, System.console() != null && System.console().isTerminal(), InstantSource.system());
    }

    public ProgressBar(PrintStream out, boolean terminal) {
        this(out, terminal, InstantSource.system());
    }

    /** With a clock of the caller's (tests use one they advance by hand). */
    public ProgressBar(PrintStream out, boolean terminal, InstantSource clock) {
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
    }

    @Override
    public void started(String repoId, String filename, long totalBytes, long alreadyHave) {
        name = repoId + "/" + filename;
        total = totalBytes;
        startBytes = alreadyHave;
        lastDone = alreadyHave;
        startNanos = nanos();
        lastDrawNanos = Long.MIN_VALUE;
        quartersPrinted = totalBytes > 0 ? quarter(alreadyHave, totalBytes) : 0;
        active = true;
        out.println("Downloading " + name + " (" + (totalBytes >= 0 ? size(totalBytes) : "size unknown")
                + (alreadyHave > 0 ? ", resuming at " + size(alreadyHave) : "") + ")");
        if (terminal) draw(alreadyHave, true);
    }

    @Override
    public void progress(long bytesDone, long totalBytes) {
        lastDone = bytesDone;
        total = totalBytes;
        if (terminal) {
            draw(bytesDone, false);
        } else if (totalBytes > 0) {
            int q = quarter(bytesDone, totalBytes);
            if (q > quartersPrinted && q < 4) {
                quartersPrinted = q;
                out.println("  " + status(bytesDone));
            }
        }
    }

    @Override
    public void finished(Path file) {
        if (!active) return; // nothing was downloaded: the file was there, or another process fetched it
        active = false;
        if (terminal) {
            draw(lastDone, true);
            out.println();
        }
        double seconds = (nanos() - startNanos) / 1e9;
        long bytes = lastDone - startBytes;
        out.println("Downloaded " + size(lastDone) + " in " + duration(seconds)
                + (seconds > 0 && bytes > 0 ? " (" + rate(bytes / seconds) + ")" : "") + ": " + file);
    }

    @Override
    public void retrying(int attempt, String reason, Duration wait) {
        if (terminal && lastLineLength > 0) {
            out.println();
            lastLineLength = 0;
        }
        out.println("  retry " + attempt + " in " + duration(wait.toMillis() / 1000.0) + ": " + reason);
    }

    @Override
    public void waiting(Path lockFile) {
        out.println("Waiting for another download of the same file to finish (lock " + lockFile + ")");
    }

    private void draw(long done, boolean force) {
        long now = nanos();
        if (!force && lastDrawNanos != Long.MIN_VALUE && now - lastDrawNanos < REDRAW_NANOS) return;
        lastDrawNanos = now;
        StringBuilder line = new StringBuilder("\r");
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            line.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("]  ");
        }
        line.append(status(done));
        int length = line.length();
        if (length < lastLineLength) line.append(" ".repeat(lastLineLength - length)); // wipe the longer old line
        lastLineLength = length;
        out.print(line);
        out.flush();
    }

    /** "41%  0.98/2.39 GB  24.5 MB/s  ETA 58s" */
    private String status(long done) {
        StringBuilder s = new StringBuilder();
        if (total > 0) {
            s.append(String.format(Locale.ROOT, "%3d%%  ", Math.min(100, done * 100 / total)));
            s.append(total >= 1_000_000_000L
                    ? String.format(Locale.ROOT, "%.2f/%.2f GB", done / 1e9, total / 1e9)
                    : String.format(Locale.ROOT, "%.1f/%.1f MB", done / 1e6, total / 1e6));
        } else {
            s.append(size(done));
        }
        double seconds = (nanos() - startNanos) / 1e9;
        double speed = seconds > 0 ? (done - startBytes) / seconds : 0;
        if (speed > 0) {
            s.append("  ").append(rate(speed));
            if (total > 0 && done < total) s.append("  ETA ").append(duration((total - done) / speed));
        }
        return s.toString();
    }

    private static int quarter(long done, long total) {
        return (int) Math.min(4, done * 4 / total);
    }

    private long nanos() {
        var now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Sizes in decimal units, as the Hub's pages and huggingface_hub's progress bars show them. */
    static String size(long bytes) {
        if (bytes >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
        if (bytes >= 1_000_000L) return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        if (bytes >= 1_000L) return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        return bytes + " B";
    }

    static String rate(double bytesPerSecond) {
        if (bytesPerSecond >= 1e6) return String.format(Locale.ROOT, "%.1f MB/s", bytesPerSecond / 1e6);
        return String.format(Locale.ROOT, "%.1f kB/s", bytesPerSecond / 1e3);
    }

    /** 58s, 3m05s, 1h02m */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
