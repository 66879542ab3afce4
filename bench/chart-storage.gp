# Two panels for the slowstore and cold workloads: the big files' total MB/s, and the small-file probe's answered
# requests (log scale), per number of clients, one bar per server. Called by bench/chart, which sets: mbps, small
# (data files: one row per number of clients, one column per server, medians over rounds), servers, rows, out, title.
set terminal pngcairo size 1200,900 font "sans,10" noenhanced
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set multiplot layout 2,1
set xrange [-0.6:rows - 0.4]

set title "Big files from the storage, each client its own file (" . title . ")"
set ylabel "MB/s, all downloads together (higher is better)"
set yrange [0:*]
plot for [i=2:servers+1] mbps using i:xtic(1) title columnheader(i)

set title "A 4 KiB file from the same storage meanwhile (" . title . ")"
set ylabel "requests answered (log scale, higher is better)"
set logscale y
set yrange [1:*]
plot for [i=2:servers+1] small using i:xtic(1) title columnheader(i)
unset multiplot
