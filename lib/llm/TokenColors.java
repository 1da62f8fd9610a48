//DEPS org.fusesource.jansi:jansi:2.4.3
//RUNTIME_OPTIONS --enable-native-access=ALL-UNNAMED
package llm;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import org.fusesource.jansi.AnsiConsole;

/**
 * Prints tokens the way the course notebook does: each token on a coloured background (or in a
 * coloured font), cycling through the course palette, followed by a reset and a space.
 *
 * <p>When colour is off (not a terminal, {@code NO_COLOR}, or {@code --color=never}) the tokens are
 * joined with {@code |} instead, and newlines and tabs are shown as {@code \n} and {@code \t}, so the
 * places where the text was split stay visible.
 */
public final class TokenColors {

    /** The course notebook's palette, in its order (24-bit RGB). */
    public static final List<String> PALETTE = List.of(
            "102;194;165", "252;141;98", "141;160;203", "231;138;195", "166;216;84", "255;217;47");

    private static final String ESC = "\u001b[";
    private static final String RESET = ESC + "0m";

    /** What {@code --color} says. */
    public enum Choice { AUTO, ALWAYS, NEVER }

    /** Colour the background of each token (the notebook's look) or its letters. */
    public enum Mode { BACKGROUND, FOREGROUND }

    private final boolean color;
    private final Mode mode;

    public TokenColors(boolean color, Mode mode) {
        this.color = color;
        this.mode = mode;
    }

    /** Whether to colour: ALWAYS and NEVER say so; AUTO colours only a terminal with no NO_COLOR set. */
    public static boolean useColor(Choice choice) {
        return switch (choice) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> isBlank(System.getenv("NO_COLOR")) && System.console() != null && System.console().isTerminal();
        };
    }

    /** On Windows, lets the console understand ANSI colours (Jansi); elsewhere terminals already do. */
    public static void installConsole(boolean color) {
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            System.setProperty("jansi.mode", color ? "force" : "strip");
            AnsiConsole.systemInstall();
        }
    }

    public boolean color() {
        return color;
    }

    /** The tokens as one line: coloured, or plain with {@code |} between tokens. */
    public String render(List<String> tokens) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            if (color) {
                out.append(paint(tokens.get(i), PALETTE.get(i % PALETTE.size()))).append(' ');
            } else {
                if (i > 0) out.append('|');
                out.append(visible(tokens.get(i)));
            }
        }
        return out.toString();
    }

    /** One piece of text in one palette colour ("R;G;B"), followed by a reset. */
    public String paint(String text, String rgb) {
        if (!color) return text;
        String code = mode == Mode.BACKGROUND ? "48;2;" : "38;2;";
        return ESC + code + rgb + "m" + text + RESET;
    }

    public void print(PrintStream out, List<String> tokens) {
        out.println(render(tokens));
    }

    /** A section heading as every script prints it: bold on a terminal, "== title" in plain text. */
    public static String heading(String title, boolean color) {
        return color ? ESC + "1m" + title + RESET : "== " + title;
    }

    /** Newlines, carriage returns and tabs written as escapes, so plain output shows them. */
    public static String visible(String token) {
        return token.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
    }

    private static boolean isBlank(String s) {
        return s == null || s.isEmpty();
    }
}
