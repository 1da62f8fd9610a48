package support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import llm.Hub;

/** A Hub.Listener that remembers what it was told, for assertions. Thread-safe. */
public final class RecordingListener implements Hub.Listener {

    /** "started total have", "finished path", "retrying attempt waitMillis reason", "waiting". */
    public final List<String> events = new ArrayList<>();
    /** Every bytesDone passed to progress(), in order. */
    public final List<Long> progress = new ArrayList<>();

    @Override public synchronized void started(String repoId, String filename, long totalBytes, long alreadyHave) {
        events.add("started " + totalBytes + " " + alreadyHave);
    }

    @Override public synchronized void progress(long bytesDone, long totalBytes) {
        progress.add(bytesDone);
    }

    @Override public synchronized void finished(Path file) {
        events.add("finished " + file);
    }

    @Override public synchronized void retrying(int attempt, String reason, Duration wait) {
        events.add("retrying " + attempt + " " + wait.toMillis() + " " + reason);
    }

    @Override public synchronized void waiting(Path lockFile) {
        events.add("waiting");
    }

    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    public synchronized long count(String prefix) {
        return events.stream().filter(e -> e.startsWith(prefix)).count();
    }
}
