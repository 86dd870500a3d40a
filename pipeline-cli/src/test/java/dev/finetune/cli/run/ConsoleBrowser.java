package dev.finetune.cli.run;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium driving the web console, with Debian's {@code chromium} and {@code chromium-driver}
 * (nothing is downloaded). Without them the test is skipped, except under {@code CI=true}, where it
 * fails. A step that fails leaves a screenshot and the page's HTML under {@code screenshots}.
 */
final class ConsoleBrowser implements AutoCloseable {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** How long a page may take to come back (generous: CI machines are shared). */
    private static final Duration PAGE = Duration.ofSeconds(20);

    /** A step of a browser test. */
    interface Step {
        void run() throws Exception;
    }

    final ChromeDriver driver;
    private final URI console;
    private final Path screenshots;

    private ConsoleBrowser(ChromeDriver driver, URI console, Path screenshots) {
        this.driver = driver;
        this.console = console;
        this.screenshots = screenshots;
    }

    static ConsoleBrowser open(URI console, Path screenshots) {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && "true".equals(System.getenv("CI"))) {
            throw new IllegalStateException(CHROMIUM + " or " + CHROMEDRIVER
                    + " is missing: install Debian's chromium and chromium-driver (.ci/run does)");
        }
        assumeTrue(installed, CHROMIUM + " or " + CHROMEDRIVER + " is missing: the console's browser test is skipped");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .build();
        return new ConsoleBrowser(new ChromeDriver(service, options), console, screenshots);
    }

    void get(String path) {
        driver.get(console.resolve(path).toString());
    }

    void signIn(String apiKey) {
        get("/sign-in");
        driver.findElement(By.id("apiKey")).sendKeys(apiKey);
        submit(driver.findElement(By.cssSelector("form[action='/sign-in'] button")));
    }

    void signOut() {
        submit(driver.findElement(By.cssSelector("form[action='/sign-out'] button")));
    }

    /**
     * Clicks a form's button and waits until the answer has replaced the page: a click returns once the
     * event is dispatched, and on a loaded CI machine the next lookup could still see the old page.
     */
    void submit(WebElement button) {
        button.click();
        new WebDriverWait(driver, PAGE).until(ExpectedConditions.stalenessOf(button));
    }

    /**
     * Types {@code text} into the field {@code css} selects and presses Enter there, as a keyboard
     * user submits a form, waiting until the answer has replaced the page.
     */
    void typeAndSubmit(String css, String text) {
        WebElement field = driver.findElement(By.cssSelector(css));
        field.sendKeys(text, Keys.ENTER);
        new WebDriverWait(driver, PAGE).until(ExpectedConditions.stalenessOf(field));
    }

    /** The text of the first element {@code css} selects, waiting for the page to have one. */
    String text(String css) {
        return new WebDriverWait(driver, PAGE)
                .until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(css)))
                .getText();
    }

    int count(String css) {
        return driver.findElements(By.cssSelector(css)).size();
    }

    Object script(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    /** Posts a form from the page (with the page's CSRF token) and answers the HTTP status. */
    long post(String path, String fields) {
        Object status = ((JavascriptExecutor) driver)
                .executeAsyncScript(
                        "const done = arguments[arguments.length - 1];"
                                + "const body = new URLSearchParams(arguments[1]);"
                                + "body.set('csrf', document.querySelector('input[name=csrf]').value);"
                                + "fetch(arguments[0], {method: 'POST', body: body, redirect: 'manual'})"
                                + ".then(r => done(r.status), e => done(-1));",
                        path,
                        fields);
        return ((Number) status).longValue();
    }

    void await(Duration timeout, String why, java.util.function.Predicate<ConsoleBrowser> condition) {
        new WebDriverWait(driver, timeout).withMessage(why).until(d -> condition.test(this));
    }

    /** Runs a step; if it fails, its screenshot and page are written under the screenshots directory. */
    void step(String name, Step step) throws Exception {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            capture(name, e);
            throw e;
        }
    }

    private void capture(String name, Throwable failure) {
        try {
            Files.createDirectories(screenshots);
            Files.write(screenshots.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
            Files.writeString(screenshots.resolve(name + ".html"), driver.getPageSource(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
