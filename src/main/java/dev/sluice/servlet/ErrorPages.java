package dev.sluice.servlet;

import jakarta.servlet.ServletContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import java.util.logging.Logger;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The statuses for which a web application's deployment descriptor ({@code /WEB-INF/web.xml}) declares an error
 * page. Sluice's own error answers (404 for a missing file, 403, 405, 412, 416, ...) with such a status go through
 * {@code sendError}, so the client sees the page the application chose, as with the containers' own file
 * servlets; the others stay Sluice's short plain-text lines, never the container's default page, which names the
 * container and its version.
 *
 * <p>Why the descriptor is read: the Servlet API does not tell a servlet which error pages its container holds, and
 * {@code sendError} for a status without one gets that default page. So only the descriptor's pages count: pages an
 * embedding program adds in code (Tomcat's {@code Context.addErrorPage}, Jetty's {@code ErrorPageErrorHandler})
 * are not seen, and Sluice answers those statuses itself.
 *
 * @param statuses the statuses with a page of their own ({@code <error-code>})
 * @param everyStatus whether the descriptor has a default page (an {@code <error-page>} with neither an
 *        {@code <error-code>} nor an {@code <exception-type>}, Servlet 6.1 section 10.9.2), which covers every status
 */
record ErrorPages(Set<Integer> statuses, boolean everyStatus) {

    static final ErrorPages NONE = new ErrorPages(Set.of(), false);

    private static final Logger LOG = Logger.getLogger(ErrorPages.class.getName());
    private static final String DESCRIPTOR = "/WEB-INF/web.xml";
    private static final String ATTRIBUTE = ErrorPages.class.getName();

    ErrorPages {
        statuses = Set.copyOf(statuses);
    }

    /** Whether the container answers {@code status} with a page of the application's. */
    boolean cover(int status) {
        return everyStatus || statuses.contains(status);
    }

    /**
     * The error pages of {@code context}'s descriptor, read once per context and kept as a context attribute (two
     * threads that both find none yet read the same file and keep equal answers). A context without a descriptor,
     * as the launcher's, has none; an unreadable one has none and a WARNING says so.
     */
    static ErrorPages of(ServletContext context) {
        if (context.getAttribute(ATTRIBUTE) instanceof ErrorPages known) {
            return known;
        }
        ErrorPages pages;
        try (InputStream descriptor = context.getResourceAsStream(DESCRIPTOR)) {
            pages = descriptor == null ? NONE : read(descriptor);
        } catch (IOException | XMLStreamException | RuntimeException e) {
            LOG.warning("Sluice: cannot read the error pages of " + DESCRIPTOR + " (" + e
                    + "): Sluice's own errors are answered in plain text");
            pages = NONE;
        }
        context.setAttribute(ATTRIBUTE, pages);
        return pages;
    }

    /**
     * The {@code <error-page>} elements of a descriptor, of any schema version and namespace. A document type
     * declaration (Servlet 2.3's descriptors have one) is skipped, never fetched, and no external entity is read.
     * An {@code <error-code>} that is not a number is left out: the container refuses such a descriptor anyway.
     */
    static ErrorPages read(InputStream descriptor) throws XMLStreamException {
        XMLInputFactory factory = XMLInputFactory.newDefaultFactory(); // the JDK's, not one a webapp bundles
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        XMLStreamReader xml = factory.createXMLStreamReader(descriptor);
        Set<Integer> statuses = new HashSet<>();
        boolean everyStatus = false;
        boolean inPage = false;
        String code = null;
        boolean exception = false;
        try {
            while (xml.hasNext()) {
                int event = xml.next();
                if (event == XMLStreamConstants.START_ELEMENT) {
                    switch (xml.getLocalName()) {
                        case "error-page" -> {
                            inPage = true;
                            code = null;
                            exception = false;
                        }
                        case "error-code" -> code = inPage ? xml.getElementText().trim() : code;
                        case "exception-type" -> exception |= inPage;
                        default -> { }
                    }
                } else if (event == XMLStreamConstants.END_ELEMENT && xml.getLocalName().equals("error-page")) {
                    inPage = false;
                    if (code != null) {
                        try {
                            statuses.add(Integer.parseInt(code));
                        } catch (NumberFormatException notANumber) {
                            // left out, see above
                        }
                    } else if (!exception) {
                        everyStatus = true;
                    }
                }
            }
        } finally {
            xml.close();
        }
        return new ErrorPages(statuses, everyStatus);
    }
}
