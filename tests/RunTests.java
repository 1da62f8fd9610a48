///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//MAIN RunTests
//DESCRIPTION Runs every JUnit 5 test in tests/ (or only the classes named, e.g. GgufTest or 'Hub*').
//DEPS org.junit.platform:junit-platform-launcher:6.1.3
//DEPS org.junit.jupiter:junit-jupiter:6.1.3
//SOURCES *Test.java
//SOURCES support/*.java
//SOURCES ../lib/llm/*.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector -Xss8m

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** The launcher behind `./jbang test`: discovers the compiled tests and prints one line per test. */
public class RunTests {

    public static void main(String[] args) throws Exception {
        Path classes = Path.of(RunTests.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String[] patterns = args.length == 0
                ? new String[] {".*Test"}
                : Arrays.stream(args).map(a -> "(.*\\.)?" + a.replace(".", "\\.").replace("*", ".*")).toArray(String[]::new);
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClasspathRoots(Set.of(classes)))
                .filters(includeClassNamePatterns(patterns))
                .build();

        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener progress = new TestExecutionListener() {
            @Override public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (!test.isTest()) {
                    if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                        System.out.println("FAIL " + test.getDisplayName() + ": " + result.getThrowable().map(Throwable::toString).orElse(""));
                    }
                    return;
                }
                String name = test.getLegacyReportingName();
                String where = test.getParentIdObject().map(Object::toString).orElse("");
                String className = where.replaceAll(".*\\[class:([^\\]]*)\\].*", "$1");
                switch (result.getStatus()) {
                    case SUCCESSFUL -> System.out.println("  ok   " + className + " > " + name);
                    case ABORTED -> System.out.println("  skip " + className + " > " + name
                            + result.getThrowable().map(t -> " (" + t.getMessage() + ")").orElse(""));
                    case FAILED -> System.out.println("  FAIL " + className + " > " + name + "\n        "
                            + result.getThrowable().map(Throwable::toString).orElse(""));
                }
            }
            @Override public void executionSkipped(TestIdentifier test, String reason) {
                System.out.println("  skip " + test.getDisplayName() + " (" + reason + ")");
            }
        };
        LauncherFactory.create().execute(request, summary, progress);

        TestExecutionSummary result = summary.getSummary();
        if (result.getTotalFailureCount() > 0) {
            System.out.println();
            result.printFailuresTo(new PrintWriter(System.out), 25);
        }
        long passed = result.getTestsSucceededCount();
        long failed = result.getTestsFailedCount() + result.getContainersFailedCount();
        long skipped = result.getTestsSkippedCount() + result.getTestsAbortedCount();
        System.out.printf("%nTests finished in %.1f s%n", (result.getTimeFinished() - result.getTimeStarted()) / 1000.0);
        System.out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        System.exit(failed > 0 || passed == 0 ? 1 : 0);
    }
}
