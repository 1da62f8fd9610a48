///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Lesson 5 assignment: compare how trained LLM tokenizers split the same text.
//CDS
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:cds=off -Xlog:aot=off
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.1
//SOURCES ../lib/llm/Cli.java
//SOURCES ../lib/llm/TokenColors.java
//SOURCES ../lib/llm/Tokenizers.java
//SOURCES ../lib/llm/ProgressBar.java

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import llm.Cli;
import llm.Hub;
import llm.HubException;
import llm.ProgressBar;
import llm.TokenColors;
import llm.Tokenizer;
import llm.TokenizerException;
import llm.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * "Comparing Trained LLM Tokenizers", the course notebook of lesson 5, in the terminal: the same
 * text through each tokenizer, every token on its own colour.
 */
@Command(name = "tokenizers", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Shows how trained LLM tokenizers split the same text into tokens.",
                "With no TEXT: the course's example through the eight tokenizers of the course."})
public class Lesson05_Tokenizers implements Callable<Integer> {

    /** The course notebook's example: capitals, an emoji and a CJK character, code, tabs made of spaces, numbers. */
    static final String COURSE_TEXT = "\nEnglish and CAPITALIZATION\n🎵 鸟\nshow_tokens False None elif == >= else: two tabs:\"    \" Three tabs: \"       \"\n12.0*50=600\n";

    enum Format { TEXT, JSON }

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize, or - to read it from stdin.")
    String text;

    @Option(names = "--model", paramLabel = "ID|PATH",
            description = "A Hugging Face model id or a tokenizer.json (file or folder); repeat for several. Default: the course's eight.")
    List<String> models;

    @Option(names = "--foreground", description = "Colour the letters instead of the background.")
    boolean foreground;

    @Option(names = "--ids", description = "Show each token's id under the tokens.")
    boolean ids;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text",
            description = "text (default), or json: one object per tokenizer per line, for scripts.")
    Format format;

    @Option(names = "--color", paramLabel = "auto|always|never", defaultValue = "auto",
            description = "Colour tokens: auto (default: only on a terminal, and not when NO_COLOR is set), always, never.")
    TokenColors.Choice color;

    private final PrintStream out = System.out;
    private final Gson gson = new GsonBuilder().disableHtmlEscaping().create();

    public static void main(String[] args) {
        System.exit(Cli.run(new Lesson05_Tokenizers(), args));
    }

    @Override
    public Integer call() {
        boolean courseRun = text == null;
        String input = courseRun ? COURSE_TEXT : "-".equals(text) ? Cli.readStdin() : text;
        if (input.isEmpty()) return fail("the text is empty: give some text, or - to read it from stdin");

        boolean useColor = format == Format.TEXT && TokenColors.useColor(color);
        TokenColors.installConsole(useColor);
        TokenColors colors = new TokenColors(useColor, foreground ? TokenColors.Mode.FOREGROUND : TokenColors.Mode.BACKGROUND);
        List<String> names = models == null ? Tokenizers.COURSE : models;

        // Loading a tokenizer takes 0.1-0.5 s; load them all at once, on every core, then print in order.
        Hub hub = Hub.fromEnvironment();
        ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        Map<String, CompletableFuture<Tokenizer>> loading = new LinkedHashMap<>();
        for (String name : names) {
            loading.put(name, CompletableFuture.supplyAsync(() -> Tokenizers.load(name, hub, new ProgressBar(System.err)), pool));
        }
        pool.shutdown();

        if (courseRun && format == Format.TEXT) {
            helloWorld(colors, loading.containsKey("bert-base-cased") ? loading.get("bert-base-cased") : null);
            out.println("The course's text, through each tokenizer:");
            out.println(heading(colors, "Text") + "\n" + input);
        }

        int missing = 0;
        for (var entry : loading.entrySet()) {
            try (Tokenizer tokenizer = entry.getValue().join()) {
                show(entry.getKey(), tokenizer, input, colors);
            } catch (java.util.concurrent.CompletionException e) {
                if (!(e.getCause() instanceof TokenizerException || e.getCause() instanceof HubException)) throw e;
                missing++;
                reportMissing(entry.getKey(), e.getCause().getMessage());
            }
        }
        // Asked-for models that can't be had are an error; the course's list just reports them.
        return missing > 0 && models != null ? 2 : 0;
    }

    private void helloWorld(TokenColors colors, CompletableFuture<Tokenizer> bert) {
        if (bert == null) return;
        Tokenizer tokenizer = bert.join();
        long[] ids = tokenizer.encode("Hello World!");
        out.println(heading(colors, "\"Hello World!\" with bert-base-cased"));
        out.println("ids:    " + java.util.Arrays.toString(ids));
        out.println("tokens: " + colors.render(tokenizer.tokens(ids)));
        out.println();
    }

    private void show(String name, Tokenizer tokenizer, String input, TokenColors colors) {
        long[] tokenIds = tokenizer.encode(input);
        List<String> tokens = tokenizer.tokens(tokenIds);
        if (format == Format.JSON) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", name);
            json.put("vocab_length", tokenizer.vocabularyLength());
            json.put("ids", tokenIds);
            json.put("tokens", tokens);
            out.println(gson.toJson(json));
            return;
        }
        out.println(heading(colors, name));
        out.println("Vocabulary length: " + tokenizer.vocabularyLength());
        out.println(colors.render(tokens));
        if (ids) out.println(idLine(tokenIds, colors));
        out.println();
    }

    /** The ids, each in its token's colour (or separated by | like the plain tokens). */
    private static String idLine(long[] tokenIds, TokenColors colors) {
        List<String> idTexts = new ArrayList<>();
        for (long id : tokenIds) idTexts.add(Long.toString(id));
        return colors.render(idTexts);
    }

    private void reportMissing(String name, String reason) {
        if (format == Format.JSON) {
            out.println(gson.toJson(Map.of("model", name, "error", reason)));
        } else {
            out.println(reason);
            out.println();
        }
    }

    private static String heading(TokenColors colors, String title) {
        return TokenColors.heading(title, colors.color());
    }

    private int fail(String message) {
        System.err.println("tokenizers: " + message);
        return 2;
    }
}
