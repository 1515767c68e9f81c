# SPDX-License-Identifier: MIT
# gnuplot bench.gp (written by rfutex bench)
set terminal pngcairo size 1400,1000 font 'sans,10' noenhanced
set output 'bench.png'
set datafile missing '?'
set style fill solid 0.7 border -1
set grid ytics
set key top left opaque
set style data histogram
set xtics rotate by -25 scale 0
set yrange [0:*]
set multiplot layout 2,2 title 'rfutex bench: Linux 6.18.44-fc-v1147, glibc 2.36, musl 1.2.3, rfutex strategy guarded, 7 rounds'
set title 'Uncontended lock+unlock: time / glibc default (median; min-max)'
set style histogram errorbars gap 1 lw 1
plot 'uncontended.dat' using 2:3:4:xtic(1) title '' lc rgb '#4477aa', 1 title 'glibc default' dt 2 lw 2 lc rgb 'black', 1.1 title 'target for rfutex_robust' dt 3 lw 2 lc rgb '#cc3311'
set title 'Uncontended lock+unlock: median ns per pair (instructions per pair)'
set style histogram clustered gap 1
plot 'uncontended.dat' using 5:xtic(1) title '' lc rgb '#66aa55', '' using 0:5:(sprintf("%.1f ns\n%s instr.", $5, strcol(6))) with labels font 'sans,8' offset 0,1.2 notitle
set key below
set title 'Contended, 2 workers on one lock: ops/s / glibc robust (median)'
plot 'contended.dat' using 2:xtic(1) title '2 threads (/ glibc_robust)' lc rgb '#4477aa', '' using 3 title '2 processes (/ glibc_robust_pshared)' lc rgb '#ee6677', 1 notitle dt 2 lw 2 lc rgb 'black'
set title 'What the unmap guard adds to munmap: ns (median; min-max)'
set xtics norotate
set xlabel 'threads alive'
set key inside top left
set style histogram errorbars gap 1 lw 1
plot 'munmap.dat' using 2:3:4:xtic(1) title 'rfutex::unmap - munmap' lc rgb '#228833', 2000 title 'target at 8 threads' dt 3 lw 2 lc rgb '#cc3311'
unset multiplot
