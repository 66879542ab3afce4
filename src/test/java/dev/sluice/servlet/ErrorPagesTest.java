package dev.sluice.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.http.FilePlanner;
import dev.sluice.http.ResponsePlan;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import javax.xml.stream.XMLStreamException;
import org.junit.jupiter.api.Test;

/** Which statuses a descriptor gives pages, and what Sluice's own small answers do with them. */
class ErrorPagesTest {

    private static final String JAKARTA = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.0\">\n"
            + "  <servlet><servlet-name>s</servlet-name><servlet-class>x.S</servlet-class></servlet>\n"
            + "  <error-page>\n    <error-code> 404 </error-code>\n    <location>/404.html</location>\n"
            + "  </error-page>\n"
            + "  <error-page><error-code>416</error-code><location>/range.html</location></error-page>\n"
            + "  <error-page><exception-type>java.lang.Exception</exception-type><location>/e.html</location>"
            + "</error-page>\n"
            + "  <error-page><error-code>lots</error-code><location>/bad.html</location></error-page>\n"
            + "</web-app>\n";

    private static ErrorPages read(String descriptor) throws XMLStreamException {
        return ErrorPages.read(new ByteArrayInputStream(descriptor.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theCodesOfTheDescriptorsPagesAndNotItsExceptionTypes() throws Exception {
        ErrorPages pages = read(JAKARTA);
        assertEquals(new ErrorPages(Set.of(404, 416), false), pages);
        assertTrue(pages.cover(404) && pages.cover(416));
        assertFalse(pages.cover(403) || pages.cover(500) || pages.cover(405));
    }

    @Test
    void aPageWithNeitherCodeNorExceptionTypeCoversEveryStatus() throws Exception {
        ErrorPages pages = read("<web-app><error-page><location>/any.html</location></error-page></web-app>");
        assertTrue(pages.everyStatus());
        assertTrue(pages.cover(400) && pages.cover(404) && pages.cover(503));
        assertFalse(read("<web-app/>").cover(404));
    }

    /** Servlet 2.3's descriptor has a document type: skipped, never fetched (the address does not exist). */
    @Test
    void anOldDescriptorWithADocumentTypeIsReadWithoutFetchingIt() throws Exception {
        assertEquals(Set.of(403), read("<?xml version=\"1.0\"?>\n<!DOCTYPE web-app PUBLIC "
                + "\"-//Sun Microsystems, Inc.//DTD Web Application 2.3//EN\"\n"
                + "  \"http://sluice.invalid/web-app_2_3.dtd\">\n"
                + "<web-app><error-page><error-code>403</error-code><location>/f.html</location></error-page>"
                + "</web-app>").statuses());
    }

    /** An entity the descriptor declares itself is never expanded: no file is read into a status. */
    @Test
    void anExternalEntityIsNotRead() {
        assertThrows(XMLStreamException.class, () -> read("<?xml version=\"1.0\"?>\n"
                + "<!DOCTYPE web-app [<!ENTITY code SYSTEM \"file:///etc/hostname\">]>\n"
                + "<web-app><error-page><error-code>&code;</error-code><location>/f.html</location></error-page>"
                + "</web-app>"));
    }

    @Test
    void aContextReadsItsDescriptorOnceAndOneWithoutHasNoPages() {
        FakeExchange none = new FakeExchange();
        assertSame(ErrorPages.NONE, ErrorPages.of(none.request().getServletContext()));
        FakeExchange exchange = new FakeExchange();
        exchange.descriptor = JAKARTA;
        var context = exchange.request().getServletContext();
        ErrorPages first = ErrorPages.of(context);
        exchange.descriptor = "<web-app/>"; // a later change is not seen: the container read it once too
        assertSame(first, ErrorPages.of(context));
        FakeExchange broken = new FakeExchange();
        broken.descriptor = "<web-app><error-page>";
        assertSame(ErrorPages.NONE, ErrorPages.of(broken.request().getServletContext()));
    }

    /**
     * A 416 with a page: the headers that say what was wrong, then {@code sendError}; none that describe the file,
     * no type, no text.
     */
    @Test
    void anErrorWithAPageGoesToTheContainerWithTheHeadersThatSayWhatWasWrong() throws Exception {
        FakeExchange exchange = new FakeExchange();
        exchange.descriptor = JAKARTA;
        ResponsePlan plan = FilePlanner.text(416, "Range Not Satisfiable", List.of(
                new ResponsePlan.Header("ETag", "\"a\""), new ResponsePlan.Header("Last-Modified", "x"),
                new ResponsePlan.Header("Accept-Ranges", "bytes"), new ResponsePlan.Header("Vary", "Accept-Encoding"),
                new ResponsePlan.Header("X-Content-Type-Options", "nosniff"),
                new ResponsePlan.Header("Content-Range", "bytes */10")));
        SluiceSender.writeSmall(exchange.request(), exchange.response(), plan, true);
        assertEquals(List.of("setHeader Vary", "setHeader Content-Range", "sendError 416"), exchange.calls);
        assertEquals("bytes */10", exchange.header("Content-Range"));
        assertEquals("Accept-Encoding", exchange.header("Vary"));
        assertEquals(0, exchange.body.size());
    }

    /** Without a page, in an include, or a success: the plan as it is. */
    @Test
    void otherwiseThePlainAnswer() throws Exception {
        for (String when : List.of("403 without a page", "404 included", "200")) {
            FakeExchange exchange = new FakeExchange();
            exchange.descriptor = JAKARTA;
            int status = Integer.parseInt(when.substring(0, 3));
            if (when.contains("included")) {
                exchange.dispatcherType = DispatcherType.INCLUDE;
            }
            SluiceSender.writeSmall(exchange.request(), exchange.response(), FilePlanner.text(status, "Text",
                    List.of()), true);
            assertEquals(status, exchange.status, when);
            assertEquals("Text\n", exchange.body.toString(StandardCharsets.UTF_8), when);
            assertFalse(exchange.calls.stream().anyMatch(c -> c.startsWith("sendError")), when + ": " + exchange.calls);
        }
    }

    /**
     * While an error page is answered (its own dispatch, or a forward from it), an error (the page is missing, say)
     * touches nothing: the answer keeps the error's status, not the page's 404; a page found is still sent.
     */
    @Test
    void anErrorWhileAnErrorPageIsAnsweredWritesNothing() throws Exception {
        for (String when : List.of("error dispatch", "forward from the page")) {
            FakeExchange exchange = new FakeExchange();
            exchange.descriptor = JAKARTA;
            exchange.status = 416;
            if (when.equals("error dispatch")) {
                exchange.dispatcherType = DispatcherType.ERROR;
            } else {
                exchange.dispatcherType = DispatcherType.FORWARD;
                exchange.attributes.put(RequestDispatcher.ERROR_STATUS_CODE, 416);
            }
            SluiceSender.writeSmall(exchange.request(), exchange.response(), FilePlanner.text(404, "Not Found",
                    List.of()), true);
            assertEquals(List.of(), exchange.calls, when);
            assertEquals(416, exchange.status, when);
            assertTrue(SluiceSender.answeringAnError(exchange.request()), when);
        }
        assertFalse(SluiceSender.answeringAnError(new FakeExchange().request()));
    }
}
