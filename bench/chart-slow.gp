# The slow workload: memory per slow client for each server, its served count written above the bar. Called by
# bench/chart, which sets: data (rows: server, KiB per client, "served/clients"), out, title.
set terminal pngcairo size 1200,500 font "sans,10" noenhanced
set output out
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set xtics rotate by -20
set title "Memory per slow client, and clients served (" . title . ")"
set ylabel "KiB per client (lower is better)"
plot data using 0:2:xtic(1) with boxes notitle, '' using 0:2:3 with labels offset 0,1 notitle
