# Two panels: throughput per concurrency per server (grouped bars), and small-file latency p50/p99 per server.
# Called by bench/chart, which prepares the data files and sets: tp, lat ('' = no latency panel), servers (columns
# of tp), rows (rows of tp), latrows (rows of lat), out, tptitle, lattitle, and medium (1: tp holds the medium
# workload's requests/s instead of MB/s).
set terminal pngcairo size 1200,900 font "sans,10" noenhanced
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set yrange [0:*]

if (strlen(lat) > 0) { set multiplot layout 2,1 }

if (medium) {
    set title "Medium files (random sizes, one after another per connection) on loopback (" . tptitle . ")"
    set ylabel "requests/s (higher is better)"
} else {
    set title "Throughput of the big file on loopback (" . tptitle . ")"
    set ylabel "MB/s (10^6 bytes/s, higher is better)"
}
set xrange [-0.6:rows - 0.4]
plot for [i=2:servers+1] tp using i:xtic(1) title columnheader(i)

if (strlen(lat) > 0) {
    set title "4 KiB file latency while other clients download the big file (" . lattitle . ")"
    set ylabel "ms (log scale, lower is better)"
    set logscale y
    set yrange [*:*]
    set xrange [-0.6:latrows - 0.4]
    set xtics rotate by -20
    plot lat using 2:xtic(1) title columnheader(2), '' using 3 title columnheader(3)
    unset multiplot
}
