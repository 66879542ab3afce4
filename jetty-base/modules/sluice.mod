# Sluice as a Jetty 12.1 module (ee11). Copy this file and the folder modules/sluice/ into ${jetty.base}/modules/,
# then: java -jar $JETTY_HOME/start.jar --add-modules=http,sluice   (see jetty-base/README.md)

[description]
Sluice: serves the files under sluice.root, without blocking threads, from ${jetty.base}/webapps/sluice.war at /.
Its settings are the sluice.<name> properties below; each one becomes the context init-param sluice.<name>.

[tags]
webapp

[environment]
ee11

[depend]
ee11-deploy
http

[xml]
# Hands the sluice.* properties to the ee11 deployer, where webapps/sluice.xml reads them.
modules/sluice/sluice-environment.xml

[files]
webapps/
basehome:modules/sluice/sluice.xml|webapps/sluice.xml

[ini-template]
## Sluice settings. A commented line shows the default; an unset setting keeps the WAR's own value (web.xml),
## else the default. An empty value means the default. Sizes: KiB, MiB, GiB; durations: ms, s, m, h.
## The WAR itself must be at ${jetty.base}/webapps/sluice.war (copy target/sluice.war there).

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
## A download whose client accepts no byte for this long is ended: up to 24h (ms, s, m or h; plain number: seconds).
# sluice.stallTimeout=60s
## direct, heap or mapped chunk buffers (mapped: files longer than a chunk are sent from a read-only mapping; heap is forced on Servlet 6.0 containers).
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
## On Tomcat with sendfile on its connector: a whole file or one range, with no speed limit and no maxTransfers, is sent by Tomcat's sendfile; false: always Sluice's engine.
# sluice.sendfile=true
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
## Comma-separated codings (br, gzip or zstd), in order of preference, whose precompressed files are served.
# sluice.precompressed=
## Comma-separated names served for a directory; the first found wins.
# sluice.welcomeFiles=index.html
## List directories that have no welcome file (otherwise 403).
# sluice.dirListing=false
## Path under the servlet (e.g. /.sluice/status) answering GET and HEAD with the counters as JSON; it shadows a file of that name; empty: off.
# sluice.statusPath=
