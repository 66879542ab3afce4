# The slow workload: memory per slow client for each server, its served count written above the bar; below it the
# clients' median time to first byte, from the connect and from each client's due time on the schedule. Called by
# bench/chart, which sets: data (rows: server, KiB per client, "served/clients", median first byte ms from the
# connect, from due; NaN where the TSV has no such column), out, title.
set terminal pngcairo size 1200,900 font "sans,10" noenhanced
set output out
set multiplot layout 2,1
set style fill solid 0.85 border -1
set grid ytics
set xtics rotate by -20

set boxwidth 0.6
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set title "Memory per slow client, and clients served (" . title . ")"
set ylabel "KiB per client (lower is better)"
plot data using 0:2:xtic(1) with boxes notitle, '' using 0:2:3 with labels offset 0,1 notitle

set offsets 0, 0, 0, 0
stats data using 2 nooutput
set xrange [0.4:STATS_records + 0.6]  # the header line takes the histogram's position 0
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9 relative
set logscale y
set yrange [1:*]
set key outside right top
set title "Median time to first byte of the same clients (" . title . ")"
set ylabel "ms (log scale, lower is better)"
plot data using 4:xtic(1) title "from the connect", '' using 5 title "from the client's due time"
unset multiplot
