# Sluice as a Jetty 12.1 module. Copy this file, sluice-ee11.mod and the folder modules/sluice/ into
# ${jetty.base}/modules/, then: java -jar $JETTY_HOME/start.jar --add-modules=http,sluice   (see jetty-base/README.md)
#
# A module of Jetty's core, not of the ee11 environment, so that its properties are core properties like those of
# the command line: a property given on the command line wins over start.d/sluice.ini, as it does for Jetty's own
# core modules (an environment's properties would win over the command line's). The ee11 part is sluice-ee11.

[description]
Sluice: serves the files under sluice.root, without blocking threads, from ${jetty.base}/webapps/sluice.war at /.
Its settings are the sluice.<name> properties below; each one becomes the context init-param sluice.<name>.

[tags]
webapp

[depend]
http
sluice-ee11

[ini]
## A download whose client takes no byte for stallTimeout (60 s) is ended by Sluice. Jetty's connector idle timeout
## (30 s) would end it first, and also cut clients that read slowly: a socket whose kernel buffers hold megabytes
## stays unwritable for tens of seconds while such a client still reads. So the connector waits the default
## stallTimeout + 5 s, as in the launcher, unless jetty.http.idleTimeout is set (start.d/http.ini or the command line).
## It does not follow sluice.stallTimeout: with a longer stallTimeout, set jetty.http.idleTimeout to it + 5 s (in ms).
jetty.http.idleTimeout?=65000
## A "%" in a file's name, which a listing links as "%25": Jetty refuses "%25" in a path as ambiguous (a percent
## decoded twice would be another escape) and answers 400. Sluice decodes the path once and never again, so "%25" is
## only a percent sign to it; every other ambiguity stays refused, as in the launcher. Unless set already.
jetty.httpConfig.uriCompliance?=DEFAULT,AMBIGUOUS_PATH_ENCODING

[ini-template]
## Sluice settings. A commented line shows the default; an unset setting keeps the WAR's own value (web.xml),
## else the default. An empty value means the default. Sizes: KiB, MiB, GiB; durations: ms, s, m, h.
## The WAR itself must be at ${jetty.base}/webapps/sluice.war (copy target/sluice.war there).
## A property on the command line (java -jar $JETTY_HOME/start.jar sluice.root=/data) wins over this file.

## Directory to serve. Required in a WAR or the Jetty module; the launcher serves a demo directory without it.
# sluice.root=/srv/files
## Directory of files that applications hand over (Java API, forward, X-Sluice-File header) and no URL reaches; not root nor under it; empty: no hand-offs.
# sluice.internalRoot=
## Largest chunk per file read and write (chunks adapt from 16KiB up to it): 1KiB to 16MiB.
# sluice.chunkSize=256KiB
## Chunk buffers one download may hold (being read, ready, being written): 1 to 64.
# sluice.readAhead=2
## Chunk-buffer bytes all downloads together may hold; a download that finds it spent waits.
# sluice.maxBufferMemory=256MiB
## Threads reading files: 1 to 1024, plus one for first reads of new downloads.
# sluice.readThreads=8
## Most threads reading files: 1 to 1024, at least readThreads (unset: 64, or readThreads if more); the pool grows to it only while reads queue up and wait for the storage.
# sluice.maxReadThreads=64
## A download whose client accepts no byte for this long is ended: up to 24h (ms, s, m or h; plain number: seconds).
# sluice.stallTimeout=60s
## direct, heap or mapped chunk buffers (mapped: files longer than a chunk are sent from a read-only mapping on Jetty, direct on Tomcat and over TLS; heap is forced on Servlet 6.0 containers).
# sluice.bufferKind=mapped
## Most bytes per second one download may take, e.g. 1MiB; 0: no limit.
# sluice.limitRate=0
## Bytes one download gets at full speed before limitRate applies, e.g. 4MiB (a video starts fast, then streams at its bitrate).
# sluice.limitRateAfter=0
## Most downloads running at once; more get 503 with Retry-After instead of piling up; 0: no limit.
# sluice.maxTransfers=0
## Most bytes per second all downloads together may take, shared fairly, e.g. 100MiB; 0: no limit.
# sluice.globalRate=0
## Most bytes per second all downloads of one client address may take together, e.g. 2MiB; 0: no limit.
# sluice.limitRatePerClient=0
## Most bytes per second all downloads of one user may take together, e.g. 2MiB; 0: no limit. The user is the authenticated user, or the key an application gives when it hands a download to Sluice; a download with no user is not limited by it.
# sluice.limitRatePerUser=0
## On Tomcat with sendfile on its connector: a whole file or one range, with no speed limit and no maxTransfers, is sent by Tomcat's sendfile (Sluice's URLs and the header hand-off, not SluiceSender.send); in the launcher (--sendfile, default remote): Sluice's engine sends its mapped chunks with sendfile on HTTP/1.1 to clients on other machines (true: to every client); false: always Sluice's engine, copying.
# sluice.sendfile=true
## Memory for what Sluice remembers of recently requested files (existence, size, time, real path) and the bytes of small ones (cacheMaxFileSize), least recently used out first: 0 to 1GiB; 0: off.
# sluice.cacheMaxMemory=10MiB
## Largest file whose bytes cacheMaxMemory keeps: 0 to 16MiB; 0: metadata only.
# sluice.cacheMaxFileSize=64KiB
## How long a remembered file is used before one background check asks the storage again: up to 1h.
# sluice.cacheRevalidate=5s
## inside-root: serve symlinks whose target stays under the root; never: refuse every symlink.
# sluice.followSymlinks=inside-root
## Serve files and directories whose name starts with a dot.
# sluice.serveHidden=false
## Answer Range requests (206, multipart/byteranges, 416).
# sluice.acceptRanges=true
## Most ranges one request may ask for (1 to 1000); more are answered with the whole file (200).
# sluice.maxRanges=16
## Cache-Control value sent with files and with 304s, e.g. 'public, max-age=3600'; empty: none.
# sluice.cacheControl=
## Comma-separated extensions (e.g. 'zip,iso') sent as downloads (Content-Disposition: attachment).
# sluice.attachmentExtensions=
## Charset announced for text/*, JSON, JavaScript, XML and SVG; none: no charset.
# sluice.textCharset=utf-8
## Comma-separated extension=type pairs (e.g. 'm3u8=application/vnd.apple.mpegurl,log=text/plain'): the Content-Type of files by extension, over the container's MIME map.
# sluice.mimeTypes=
## Comma-separated codings (br, gzip or zstd), in order of preference, whose precompressed files are served.
# sluice.precompressed=
## Comma-separated names served for a directory; the first found wins.
# sluice.welcomeFiles=index.html
## List directories that have no welcome file (otherwise 403).
# sluice.dirListing=false
## Path under the servlet (e.g. /.sluice/status) answering GET and HEAD with the counters and the downloads in flight as JSON, and a browser with a live page; it shadows a file of that name; empty: off.
# sluice.statusPath=
## Path under the servlet (e.g. /.sluice/metrics) answering GET and HEAD with the counters in Prometheus' text format; it shadows a file of that name; empty: off.
# sluice.metricsPath=
## One line per download (completed, aborted or failed) on the logger dev.sluice.access at INFO: client, user, path, range, status, bytes, duration, outcome, waits.
# sluice.accessLog=false
## Comma-separated addresses and CIDR ranges (e.g. '10.0.0.0/8,2001:db8::/32') whose clients may reach statusPath and metricsPath; others get 404.
# sluice.adminAllow=127.0.0.0/8,::1
## Container role whose users may reach statusPath and metricsPath from any address; empty: none.
# sluice.adminRole=
## Secret (at least 16 bytes) for signed, expiring links: set, a file is served only for a link signed with it (403 without, 410 once expired); empty: off. Prefer signingKeyFile.
# sluice.signingKey=
## File holding the signing key (its bytes, trailing newline trimmed), instead of signingKey.
# sluice.signingKeyFile=
## The key before the current one, for a rotation: links signed with it are still served.
# sluice.signingKeyPrevious=
## File holding the previous signing key, instead of signingKeyPrevious.
# sluice.signingKeyPreviousFile=
