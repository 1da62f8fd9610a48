//SOURCES Word2Vec.java
package llm;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows how far word2vec trainings have got, on a stream the caller gives: one bar for one or more
 * trainings together (each gets its own {@link #part()}). On a terminal it redraws one line with
 * {@code \r}; into a file or a pipe it prints a line at each quarter, so logs stay short.
 *
 * <pre>
 *   training [###############...............]  50 %  loss 0.384
 * </pre>
 */
public final class TrainingProgress {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final double[] fractions;
    private final boolean terminal;
    private int parts;
    private int quartersShown;
    private long lastDraw;
    private double loss = Double.NaN;

    /** {@code trainings}: how many trainings share the bar (each counts the same); 0 shows nothing. */
    public TrainingProgress(PrintStream out, int trainings, boolean terminal) {
        this.out = out;
        this.fractions = new double[trainings];
        this.terminal = terminal;
    }

    /** Redraws when this process has a terminal, plain lines otherwise. */
    public TrainingProgress(PrintStream out, int trainings) {
        this(out, trainings, System.console() != null && System.console().isTerminal());
    }

    /** A listener for the next training, showing its progress in the shared bar (trainings may run on different threads). */
    public synchronized Word2Vec.Listener part() {
        if (parts == fractions.length) throw new IllegalStateException("the bar was made for " + fractions.length + " training(s)");
        int part = parts++;
        return (partDone, partTotal, partLoss) -> {
            synchronized (this) {
                fractions[part] = partTotal == 0 ? 1 : (double) partDone / partTotal;
                loss = partLoss;
                draw(false);
            }
        };
    }

    /** Draws the full bar (and ends the line on a terminal), unless nothing was trained. */
    public synchronized void finish() {
        if (fractions.length == 0) return;
        java.util.Arrays.fill(fractions, 1);
        draw(true);
        if (terminal) out.println();
    }

    private void draw(boolean last) {
        if (fractions.length == 0) return;
        double sum = 0;
        for (double f : fractions) sum += f;
        int percent = (int) Math.min(100, Math.floor(sum / fractions.length * 100));
        int filled = percent * WIDTH / 100;
        String line = String.format(Locale.ROOT, "  training [%s%s] %3d %%  loss %.3f", "#".repeat(filled), ".".repeat(WIDTH - filled), percent, loss);
        if (terminal) {
            long now = System.nanoTime();
            if (!last && now - lastDraw < 100_000_000L) return;
            lastDraw = now;
            out.print("\r" + line);
            out.flush();
        } else if (last ? quartersShown < 4 : percent / 25 > quartersShown && percent < 100) {
            quartersShown = last ? 4 : percent / 25;
            out.println(line);
        }
    }
}
