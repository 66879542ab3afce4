package dev.sluice.it;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Diagnostics only: what Tomcat's HTTP/2 code holds for the streams that wait (its protocol's waiting processors),
 * read by reflection, and a dump of the JVM's threads. For tracking down a close that Tomcat does not report.
 */
final class TomcatH2Probe {

    private TomcatH2Probe() {
    }

    static String describe(Object connector) {
        StringBuilder out = new StringBuilder();
        try {
            Object protocol = connector.getClass().getMethod("getProtocolHandler").invoke(connector);
            Set<?> waiting = (Set<?>) field(protocol, "waitingProcessors");
            out.append("waitingProcessors=").append(waiting.size()).append('\n');
            Map<Object, List<Object>> byHandler = new LinkedHashMap<>();
            for (Object processor : waiting.toArray()) {
                if (!processor.getClass().getName().endsWith("StreamProcessor")) {
                    out.append("  other processor ").append(processor.getClass().getName()).append('\n');
                    continue;
                }
                byHandler.computeIfAbsent(field(processor, "handler"), h -> new ArrayList<>()).add(processor);
            }
            for (Map.Entry<Object, List<Object>> entry : byHandler.entrySet()) {
                Object handler = entry.getKey();
                Object socketWrapper = field(handler, "socketWrapper");
                Object concurrency = field(handler, "streamConcurrency");
                Object queued = field(handler, "queuedRunnable");
                out.append("handler ").append(field(handler, "connectionId")).append(": connectionState=")
                        .append(field(handler, "connectionState")).append(" streamConcurrency=").append(concurrency)
                        .append(" queuedRunnable=").append(queued == null ? null : ((Collection<?>) queued).size())
                        .append(" streams=").append(((Map<?, ?>) field(handler, "streams")).size())
                        .append(" socketClosed=").append(socketWrapper.getClass().getMethod("isClosed")
                                .invoke(socketWrapper))
                        .append(" socketError=").append(socketWrapper.getClass().getMethod("getError")
                                .invoke(socketWrapper))
                        .append(" readOperation=").append(field(socketWrapper, "readOperation"))
                        .append(" writeOperation=").append(field(socketWrapper, "writeOperation"))
                        .append(" parserError=").append(field(field(handler, "parser"), "error"))
                        .append('\n');
                out.append("  socket: ").append(socket(socketWrapper)).append('\n');
                Object read = field(socketWrapper, "readOperation");
                if (read != null) {
                    out.append("  readOperation: state=").append(field(read, "state")).append(" completionDone=")
                            .append(field(read, "completionDone")).append(" inline=").append(field(read, "inline"))
                            .append(" nBytes=").append(field(read, "nBytes")).append(" callHandler=")
                            .append(field(read, "callHandler")).append(" handler=").append(field(read, "handler"))
                            .append('\n');
                }
                Map<String, Integer> states = new TreeMap<>();
                for (Object processor : entry.getValue()) {
                    Object stream = field(processor, "stream");
                    Object response = field(stream, "coyoteResponse");
                    Object buffer = field(stream, "streamOutputBuffer");
                    String key = "state=" + field(field(stream, "state"), "state") + " waitingFor="
                            + field(field(stream, "allocationManager"), "waitingFor") + " window="
                            + field(stream, "windowSize") + " async="
                            + field(field(processor, "asyncStateMachine"), "state") + " registeredForWrite="
                            + field(response, "registeredForWrite") + " fireListener="
                            + field(response, "fireListener") + " dataLeft=" + field(buffer, "dataLeft")
                            + " dispatches=" + field(processor, "dispatches");
                    states.merge(key, 1, Integer::sum);
                }
                states.forEach((k, n) -> out.append("  ").append(n).append(" x ").append(k).append('\n'));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            out.append("probe failed: ").append(e).append('\n');
        }
        return out.toString();
    }

    private static String socket(Object socketWrapper) throws ReflectiveOperationException {
        Object nioChannel = socketWrapper.getClass().getMethod("getSocket").invoke(socketWrapper);
        java.nio.channels.SocketChannel channel = (java.nio.channels.SocketChannel) nioChannel.getClass()
                .getMethod("getIOChannel").invoke(nioChannel);
        Object poller = field(socketWrapper, "poller");
        java.nio.channels.Selector selector = (java.nio.channels.Selector) poller.getClass().getMethod("getSelector")
                .invoke(poller);
        java.nio.channels.SelectionKey key = channel == null ? null : channel.keyFor(selector);
        String keyText = key == null ? "no key" : key.isValid() ? "interestOps=" + key.interestOps()
                + " readyOps=" + key.readyOps() : "key cancelled";
        return "channel=" + channel + " open=" + (channel != null && channel.isOpen()) + " " + keyText
                + " wrapperInterestOps=" + socketWrapper.getClass().getMethod("interestOps").invoke(socketWrapper)
                + " lastRead=" + (System.currentTimeMillis() - (long) socketWrapper.getClass()
                        .getMethod("getLastRead").invoke(socketWrapper)) + " ms ago";
    }

    static String threads() {
        return ThreadDump.all();
    }

    private static Object field(Object target, String name) throws ReflectiveOperationException {
        for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
            try {
                Field field = type.getDeclaredField(name);
                field.setAccessible(true);
                return field.get(target);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(target.getClass().getName() + "." + name);
    }
}
